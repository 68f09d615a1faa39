/* Publication editor.
 * - The live counters follow the channels that are ticked: each channel checkbox carries its
 *   plan as the server gives it (data-channel-plan, from calendar_app.sending.ChannelPlan);
 *   counter.js assembles the parts from it.
 * - The texts (stacked without JavaScript) become tabs, one per language, each naming its
 *   status: empty, written, over a limit (the counter's lists), machine translation unchecked.
 * - The image field takes a dropped file and shows its thumbnail; a file that is no image
 *   says so (the texts stay); the preview (from the server, HTMX) draws it where it goes.
 * - A preview or check that cannot reach the server says so; the text stays (drafts.js keeps it).
 *   A session that ended says so too (the server's 401 answer), in the same status line.
 */
(function () {
  "use strict";

  function selectedPlans() {
    var plans = [];
    document.querySelectorAll("#channel-choice input[type=checkbox][data-channel-plan]").forEach(function (box) {
      if (!box.checked) { return; }
      try {
        plans.push(JSON.parse(box.getAttribute("data-channel-plan")));
      } catch (error) {
        // A plan the page cannot read is not counted; the server's check still runs.
      }
    });
    return plans;
  }

  function refresh() {
    var plans = JSON.stringify(selectedPlans());
    document.querySelectorAll("textarea[data-count-language]").forEach(function (area) {
      area.setAttribute("data-count-channels", plans);
    });
    document.dispatchEvent(new CustomEvent("counter:refresh"));
  }

  // --- Texts as tabs -----------------------------------------------------------------------

  function statusOf(panel, labels) {
    var area = panel.querySelector("textarea[data-count-language]");
    if (panel.querySelector(".machine-note.unchecked")) { return ["machine", labels.machine]; }
    if (panel.querySelector(".char-counts li.over")) { return ["over", labels.over]; }
    if (area && area.value.trim()) { return ["written", labels.written]; }
    return ["empty", labels.empty];
  }

  function makeTabs(fieldset) {
    var panels = Array.prototype.slice.call(fieldset.querySelectorAll(".variant[data-language]"));
    if (panels.length < 2) { return; }
    var labels = {
      empty: fieldset.getAttribute("data-status-empty"),
      written: fieldset.getAttribute("data-status-written"),
      over: fieldset.getAttribute("data-status-over"),
      machine: fieldset.getAttribute("data-status-machine"),
    };
    var list = document.createElement("div");
    list.className = "text-tabs";
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", fieldset.getAttribute("data-tablist-label"));
    var tabs = panels.map(function (panel) {
      var language = panel.getAttribute("data-language");
      var tab = document.createElement("button");
      tab.type = "button";
      tab.id = "text-tab-" + language;
      tab.className = "text-tab";
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      var name = document.createElement("span");
      name.className = "text-tab-name";
      name.textContent = panel.getAttribute("data-language-name");
      var status = document.createElement("span");
      status.className = "text-tab-status";
      tab.appendChild(name);
      tab.appendChild(document.createTextNode(" "));
      tab.appendChild(status);
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      list.appendChild(tab);
      return tab;
    });
    fieldset.insertBefore(list, panels[0]);
    fieldset.classList.add("tabbed");

    function select(index, focus) {
      tabs.forEach(function (tab, i) {
        var on = i === index;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        panels[i].hidden = !on;
      });
      if (focus) { tabs[index].focus(); }
    }

    function statuses() {
      panels.forEach(function (panel, i) {
        var status = statusOf(panel, labels);
        var label = tabs[i].querySelector(".text-tab-status");
        if (label.textContent !== status[1]) { label.textContent = status[1]; }
        tabs[i].setAttribute("data-status", status[0]);
      });
    }

    list.addEventListener("click", function (event) {
      var tab = event.target.closest("[role=tab]");
      if (tab) { select(tabs.indexOf(tab), false); }
    });
    list.addEventListener("keydown", function (event) {
      var index = tabs.indexOf(document.activeElement);
      if (index === -1) { return; }
      var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) { return; }
      event.preventDefault();
      select((next + tabs.length) % tabs.length, true);
    });
    document.addEventListener("counter:counted", statuses);
    fieldset.addEventListener("input", statuses);
    statuses();
    // Open where there is something to fix or check, else the first text written, else the first.
    var first = panels.findIndex(function (panel) { return panel.querySelector(".errorlist"); });
    if (first === -1) {
      first = panels.findIndex(function (panel) { return panel.querySelector(".machine-note.unchecked"); });
    }
    if (first === -1) {
      first = panels.findIndex(function (panel) {
        var area = panel.querySelector("textarea");
        return area && area.value.trim();
      });
    }
    select(Math.max(first, 0), false);
    fieldset.showLanguage = function (language) {
      var index = panels.findIndex(function (panel) { return panel.getAttribute("data-language") === language; });
      if (index !== -1) { select(index, false); }
    };
  }

  // --- The image: drop a file, see its thumbnail --------------------------------------------

  var chosenImage = null; // a data: URL of the image chosen, for the preview

  function say(zone, text, bad) {
    var box = zone.querySelector("[data-drop-preview]");
    while (box.firstChild) { box.removeChild(box.firstChild); }
    if (text) {
      var line = document.createElement("p");
      line.className = bad ? "drop-error" : "drop-name";
      line.textContent = text;
      box.appendChild(line);
    }
    return box;
  }

  function showFile(zone, input) {
    var flag = document.querySelector("[data-new-image-flag]");
    var file = input.files && input.files[0];
    chosenImage = null;
    if (flag) { flag.value = ""; }
    if (!file) {
      say(zone, "", false);
      input.dispatchEvent(new CustomEvent("editor:image", { bubbles: true }));
      return;
    }
    var box = say(zone, zone.getAttribute("data-chosen-format").replace("%(name)s", file.name), false);
    var refuse = function () {
      say(zone, zone.getAttribute("data-bad-image"), true);
      input.setAttribute("aria-invalid", "true");
      input.dispatchEvent(new CustomEvent("editor:image", { bubbles: true }));
    };
    if (!/^image\//.test(file.type)) { refuse(); return; }
    var reader = new FileReader();
    reader.onerror = refuse;
    reader.onload = function () {
      var image = new Image();
      image.onerror = refuse;
      image.onload = function () {
        input.removeAttribute("aria-invalid");
        image.className = "drop-thumbnail";
        image.alt = zone.getAttribute("data-thumbnail-alt");
        box.appendChild(image);
        chosenImage = reader.result;
        if (flag) { flag.value = "1"; }
        input.dispatchEvent(new CustomEvent("editor:image", { bubbles: true }));
      };
      image.src = reader.result;
    };
    reader.readAsDataURL(file);
  }

  function dropZone(zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) { return; }
    zone.classList.add("drop-ready");
    var hint = document.createElement("p");
    hint.className = "drop-hint";
    hint.setAttribute("aria-hidden", "true"); // the field's label and button say it already
    hint.textContent = zone.getAttribute("data-drop-hint");
    zone.insertBefore(hint, zone.firstChild);
    input.addEventListener("change", function () { showFile(zone, input); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("drop-over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("drop-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) { return; }
      try {
        var transfer = new DataTransfer();
        transfer.items.add(files[0]);
        input.files = transfer.files;
      } catch (error) {
        input.files = files;
      }
      showFile(zone, input);
    });
  }

  // The preview marks where the chosen (not yet uploaded) image goes: draw it there.
  function drawChosenImage(root) {
    if (!chosenImage) { return; }
    root.querySelectorAll("[data-new-image]").forEach(function (slot) {
      if (slot.querySelector("img")) { return; }
      var image = document.createElement("img");
      image.src = chosenImage;
      image.alt = slot.textContent.trim();
      slot.textContent = "";
      slot.appendChild(image);
    });
  }

  // --- Requests that fail -------------------------------------------------------------------

  function connectionStatus(text) {
    var line = document.querySelector("[data-connection-status]");
    if (line && line.textContent !== text) { line.textContent = text; }
  }

  function inEditor(event) {
    return event.target && event.target.closest && event.target.closest("form.editor");
  }

  document.addEventListener("htmx:sendError", function (event) {
    if (!inEditor(event)) { return; }
    var line = document.querySelector("[data-connection-status]");
    if (line) { connectionStatus(line.getAttribute("data-offline")); }
  });
  // A text the form cannot take (400) is said in the box asked, in place of its preview or check.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!inEditor(event) || event.detail.xhr.status !== 400) { return; }
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  });
  // The server's short answer, as text: a session that ended (401) says so in the status line;
  // nothing is drawn in the preview or the check (htmx swaps no error), the text stays.
  function answerText(xhr) {
    var page = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    return (page.body ? page.body.textContent : "").trim();
  }
  document.addEventListener("htmx:responseError", function (event) {
    if (!inEditor(event)) { return; }
    var line = document.querySelector("[data-connection-status]");
    if (!line) { return; }
    var xhr = event.detail.xhr;
    var said = xhr && xhr.status === 401 ? answerText(xhr) : "";
    connectionStatus(said || line.getAttribute("data-failed"));
  });
  // The preview says each channel's plan as it is now: a plan its post manager changed while
  // this page was open is counted as it will be sent.
  function followPlans(root) {
    var changed = false;
    root.querySelectorAll("[data-channel-plan-now]").forEach(function (article) {
      var box = document.querySelector(
        "#channel-choice input[type=checkbox][value='" + article.getAttribute("data-channel-id") + "']"
      );
      var plan = article.getAttribute("data-channel-plan-now");
      if (box && box.getAttribute("data-channel-plan") !== plan) {
        box.setAttribute("data-channel-plan", plan);
        changed = true;
      }
    });
    if (changed) { refresh(); }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!inEditor(event)) { return; }
    connectionStatus("");
    drawChosenImage(event.target);
    followPlans(event.target);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var choice = document.getElementById("channel-choice");
    if (choice) {
      choice.addEventListener("change", refresh);
      refresh();
    }
    document.querySelectorAll("form.editor [data-text-tabs]").forEach(makeTabs);
    document.querySelectorAll("form.editor [data-drop-zone]").forEach(dropZone);
  });
})();
