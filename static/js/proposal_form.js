/* The partner's proposal form (templates/calendar_app/_proposal_form.html).
 *
 * 1. Only the target field the chosen target needs shows: "Some countries" the country picker,
 *    "Some posts" the post picker, "The whole network" neither. Without JavaScript both show,
 *    each saying when it counts, and the server ignores the one the target does not need
 *    (its value and its errors). A field that carries an error shows whatever the target.
 * 2. A copy of the form is kept in this browser (localStorage) as the partner types, so that
 *    no text is lost if the session ends or the tab closes before "Save": the next time the
 *    form opens with other values, the copy is offered back. The server says when a save
 *    succeeded (data-forget-draft on the page that follows) and the copy is forgotten.
 *    Photos are not kept (a browser cannot put a file back into a file field).
 *    A copy on offer is set aside (under the key + ":aside") until the partner answers, so
 *    that what she types meanwhile is kept too: a partner who ignores the offer and writes
 *    something new loses neither text if the session ends again. Copies set aside are
 *    offered one at a time, the newest first, until each is restored or discarded.
 * 3. The preview follows the texts through HTMX (attributes in _proposal_preview.html): the
 *    "Show the preview" button, for pages without JavaScript, is not needed.
 * Every text shown comes from the page's data attributes, translated by the server.
 */
(function () {
  "use strict";

  var SAVE_DELAY_MS = 400;
  var ASIDE_MAX = 5; // copies set aside, the newest kept: a bound on what the browser holds

  function store() {
    try {
      return window.localStorage;
    } catch (error) {
      return null; // storage refused (private mode, policy): the form still works
    }
  }

  function read(key) {
    var storage = store();
    if (!storage) { return null; }
    try {
      var record = JSON.parse(storage.getItem(key) || "null");
      return record && record.values ? record : null;
    } catch (error) {
      return null;
    }
  }

  function write(key, values, photo) {
    var storage = store();
    if (!storage) { return false; }
    try {
      storage.setItem(key, JSON.stringify({ savedAt: Date.now(), values: values, photo: photo }));
      return true;
    } catch (error) {
      return false; // full: the form still works, without the copy
    }
  }

  function forget(key) {
    var storage = store();
    if (storage) { storage.removeItem(key); }
  }

  // The copies set aside while on offer, the newest first.
  function readAside(key) {
    var storage = store();
    if (!storage) { return []; }
    try {
      var copies = JSON.parse(storage.getItem(key + ":aside") || "[]");
      return Array.isArray(copies) ? copies.filter(function (record) { return record && record.values; }) : [];
    } catch (error) {
      return [];
    }
  }

  function writeAside(key, copies) {
    var storage = store();
    if (!storage) { return; }
    try {
      if (copies.length) {
        storage.setItem(key + ":aside", JSON.stringify(copies.slice(0, ASIDE_MAX)));
      } else {
        storage.removeItem(key + ":aside");
      }
    } catch (error) {
      // full: the copy on offer stays where it was
    }
  }

  // --- 1. The target's fields ----------------------------------------------------------------

  function showTargets(form) {
    var checked = form.querySelector('input[name="target"]:checked');
    var target = checked ? checked.value : "network";
    form.querySelectorAll("[data-target-field]").forEach(function (field) {
      // A field the server refused always shows, or its message would be hidden with it.
      var refused = field.querySelector(".field-invalid, .errorlist") !== null;
      field.hidden = field.getAttribute("data-target-field") !== target && !refused;
    });
  }

  // --- 2. The copy kept in the browser --------------------------------------------------------

  function kept(element) {
    return element.name && element.name !== "csrfmiddlewaretoken" && !element.disabled &&
      ["file", "submit", "button", "reset"].indexOf(element.type) === -1;
  }

  function snapshot(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!kept(element)) { return; }
      if (element.type === "radio") {
        if (element.checked) { values[element.name] = element.value; }
      } else if (element.type === "checkbox") {
        values[element.name] = element.checked;
      } else if (element.multiple) {
        values[element.name] = Array.prototype.filter.call(element.options, function (option) {
          return option.selected;
        }).map(function (option) { return option.value; });
      } else {
        values[element.name] = element.value;
      }
    });
    return values;
  }

  function restore(form, values) {
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!kept(element) || !(element.name in values)) { return; }
      var value = values[element.name];
      if (element.type === "radio") {
        element.checked = element.value === value;
      } else if (element.type === "checkbox") {
        element.checked = Boolean(value);
      } else if (element.multiple) {
        var chosen = Array.isArray(value) ? value : [];
        Array.prototype.forEach.call(element.options, function (option) {
          option.selected = chosen.indexOf(option.value) !== -1;
        });
        if (element.tomselect) { element.tomselect.setValue(chosen, true); }
      } else {
        element.value = value;
      }
    });
    showTargets(form);
    // The preview follows (HTMX listens for input on the form).
    form.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function sameValues(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function hasWords(values) {
    return Object.keys(values).some(function (name) {
      var value = values[name];
      return name !== "target" && typeof value === "string" && value.trim() !== "";
    });
  }

  function timeOf(milliseconds, withDate) {
    var options = withDate
      ? { dateStyle: "medium", timeStyle: "short" }
      : { timeStyle: "short" };
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, options)
        .format(new Date(milliseconds));
    } catch (error) {
      return new Date(milliseconds).toLocaleString();
    }
  }

  function button(text, className, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = className;
    element.textContent = text;
    element.addEventListener("click", onClick);
    return element;
  }

  function offer(form, notice, record, said, onDecided) {
    var data = notice.dataset;
    var text = document.createElement("p");
    text.textContent = (data.found || "").replace("%(when)s", timeOf(record.savedAt, true));
    if (record.photo) { text.textContent += " " + (data.photo || ""); }
    var actions = document.createElement("p");
    actions.className = "actions";
    actions.appendChild(button(data.restore || "", "", function () {
      restore(form, record.values);
      notice.textContent = data.restored || "";
      onDecided(true);
    }));
    actions.appendChild(button(data.discard || "", "secondary", function () {
      notice.textContent = data.discarded || "";
      onDecided(false);
    }));
    if (said) {
      var before = document.createElement("p");
      before.textContent = said;
      notice.replaceChildren(before, text, actions);
    } else {
      notice.replaceChildren(text, actions);
    }
    notice.hidden = false;
  }

  // The copies worth offering: with words, not what the form shows, each once, the newest first.
  function offerable(copies, values) {
    var seen = {};
    return copies.filter(function (record) {
      var text = JSON.stringify(record.values);
      if (!hasWords(record.values) || sameValues(record.values, values) || seen[text]) { return false; }
      seen[text] = true;
      return true;
    }).sort(function (a, b) { return (b.savedAt || 0) - (a.savedAt || 0); });
  }

  function keepCopies(form) {
    var key = form.getAttribute("data-draft-key");
    var notice = document.getElementById("draft-notice");
    var status = document.getElementById("draft-status");
    if (!key || !store()) { return; }
    var record = read(key);
    var copies = offerable((record ? [record] : []).concat(readAside(key)), snapshot(form));
    function offerNext(said) {
      var next = offerable(readAside(key), snapshot(form));
      if (!next.length) { return; }
      offer(form, notice, next[0], said, function (restored) {
        writeAside(key, readAside(key).filter(function (other) { return !sameValues(other.values, next[0].values); }));
        var latest = read(key);
        if (latest && sameValues(latest.values, next[0].values)) { forget(key); }
        if (restored) { save(); }
        offerNext(notice.textContent);
      });
    }
    if (copies.length && notice) {
      // Set aside before anything is typed, so that what is typed from now on is kept under
      // the key without overwriting the copy on offer.
      writeAside(key, copies);
      offerNext("");
    }
    var timer = null;
    function save() {
      if (timer) { window.clearTimeout(timer); }
      timer = null;
      var values = snapshot(form);
      if (!hasWords(values)) { return; }
      var photo = Array.prototype.some.call(form.querySelectorAll('input[type="file"]'), function (input) {
        return input.files && input.files.length > 0;
      });
      if (write(key, values, photo) && status) {
        status.textContent = (status.dataset.kept || "").replace("%(time)s", timeOf(Date.now(), false));
        status.hidden = false;
      }
    }
    function later() {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(save, SAVE_DELAY_MS);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    // Leaving the page (a submit, a closed tab) writes what is pending at once.
    window.addEventListener("pagehide", function () { if (timer) { save(); } });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-forget-draft]").forEach(function (element) {
      forget(element.getAttribute("data-forget-draft"));
    });
    document.querySelectorAll("form.proposal-form").forEach(function (form) {
      form.querySelectorAll('input[name="target"]').forEach(function (radio) {
        radio.addEventListener("change", function () { showTargets(form); });
      });
      showTargets(form);
      form.querySelectorAll('button[name="preview"]').forEach(function (preview) { preview.hidden = true; });
      keepCopies(form);
    });
  });
})();
