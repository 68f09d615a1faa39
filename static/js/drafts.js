/* The editor keeps what is typed on this device until it is saved.
 *
 * While typing, the form's fields go to localStorage under "editor-draft:<key>" (the form's
 * data-draft-key: "<user id>:new-<post code>" or "<user id>:<publication id>", so that nobody
 * is offered someone else's text), with the publication's revision the page was drawn from
 * (data-draft-revision). On the next visit the page offers them back ("Restore your unsaved
 * text from <time>?", Restore / Discard); it never restores silently, and a copy written on an
 * older revision than the page's is dropped, never offered: restoring it would overwrite the
 * newer saved text. Sending the form moves the copy to sessionStorage: a save that fails (a
 * session that ended, a refused form) finds it again, while a successful save answers with the
 * cookie "editor_saved" and saved_drafts.js, on whatever page comes next, drops the copy.
 */
(function () {
  "use strict";

  var PREFIX = "editor-draft:";
  var SKIPPED = /^(csrfmiddlewaretoken|post|publication|revision|new_image|machine_|checked_)/;

  function store(kind) {
    try {
      var storage = window[kind];
      storage.getItem("x");
      return storage;
    } catch (error) {
      return null; // storage off (private mode, a policy): the editor works without it
    }
  }

  function fieldsOf(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || SKIPPED.test(field.name) || field.type === "file" || field.type === "submit") { return; }
      if (field.type === "checkbox" || field.type === "radio") {
        if (!values[field.name]) { values[field.name] = []; }
        if (field.checked) { values[field.name].push(field.value); }
      } else if (field.tagName !== "BUTTON") {
        values[field.name] = field.value;
      }
    });
    return values;
  }

  function written(values) {
    return Object.keys(values).some(function (name) {
      return /^variant_/.test(name) && String(values[name]).trim();
    });
  }

  // Whether the copy holds something the page does not show: only then is it offered.
  function differs(saved, current) {
    return Object.keys(saved).some(function (name) {
      var value = saved[name];
      if (Array.isArray(value)) { return false; } // ticks alone are no lost work
      return String(value).trim() && String(value) !== String(current[name] === undefined ? "" : current[name]);
    });
  }

  function apply(form, values) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || !Object.prototype.hasOwnProperty.call(values, field.name)) { return; }
      var value = values[field.name];
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = Array.isArray(value) && value.indexOf(field.value) !== -1;
      } else if (field.type !== "file" && !Array.isArray(value)) {
        field.value = value;
      }
    });
    // One event of each kind, not one a field: the counters, the channels' plans, the preview
    // and the check each listen on the form (or above it) and need telling once.
    var box = form.querySelector("#channel-choice input[type=checkbox]");
    (box || form).dispatchEvent(new Event("change", { bubbles: true }));
    var area = form.querySelector("textarea");
    (area || form).dispatchEvent(new Event("input", { bubbles: true }));
  }

  function when(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return iso; }
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        dateStyle: "medium",
        timeStyle: "short",
      }).format(date);
    } catch (error) {
      return date.toLocaleString();
    }
  }

  function offer(form, local, name, copy) {
    var box = document.createElement("div");
    box.className = "draft-offer";
    var question = document.createElement("p");
    question.id = "draft-offer-question";
    box.setAttribute("role", "region");
    box.setAttribute("aria-labelledby", question.id);
    question.textContent = form.getAttribute("data-restore-format").replace("%(time)s", when(copy.savedAt));
    var restore = document.createElement("button");
    restore.type = "button";
    restore.textContent = form.getAttribute("data-restore-label");
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "secondary";
    discard.textContent = form.getAttribute("data-discard-label");
    var buttons = document.createElement("p");
    buttons.className = "draft-offer-actions";
    buttons.appendChild(restore);
    buttons.appendChild(document.createTextNode(" "));
    buttons.appendChild(discard);
    box.appendChild(question);
    box.appendChild(buttons);
    form.parentNode.insertBefore(box, form);
    restore.addEventListener("click", function () {
      apply(form, copy.fields);
      question.textContent = form.getAttribute("data-restored");
      box.setAttribute("role", "status");
      buttons.remove();
      var first = form.querySelector("textarea[data-count-language]");
      if (first) { first.focus(); }
    });
    discard.addEventListener("click", function () {
      local.removeItem(name);
      box.remove();
    });
    return box;
  }

  function start(form) {
    var key = form.getAttribute("data-draft-key");
    var local = store("localStorage");
    if (!key || !local) { return; }
    var name = PREFIX + key;
    // The revision of the publication as this page shows it (none for a new publication).
    var revision = parseInt(form.getAttribute("data-draft-revision"), 10);
    var session = store("sessionStorage");
    var pending = session && session.getItem(name);
    if (pending) {
      // The last save of this text did not go through and this page is its answer (the text
      // refused or outdated, shown again): keep the copy, as of the revision this page shows.
      try {
        var answered = JSON.parse(pending);
        if (!isNaN(revision)) { answered.revision = revision; }
        pending = JSON.stringify(answered);
      } catch (error) {
        pending = null;
      }
      if (pending) { local.setItem(name, pending); }
      session.removeItem(name);
    }
    var copy = null;
    try {
      copy = JSON.parse(local.getItem(name) || "null");
    } catch (error) {
      local.removeItem(name);
    }
    if (copy && !isNaN(revision) && !(copy.revision >= revision)) {
      // Written on an older version (saved since, here or elsewhere): restoring it would
      // silently undo that save.
      local.removeItem(name);
      copy = null;
    }
    if (copy && copy.fields && differs(copy.fields, fieldsOf(form))) {
      offer(form, local, name, copy);
    }

    var timer = null;
    function keep() {
      timer = null;
      var values = fieldsOf(form);
      if (!written(values)) { return; }
      try {
        var copy = { savedAt: new Date().toISOString(), fields: values };
        if (!isNaN(revision)) { copy.revision = revision; }
        local.setItem(name, JSON.stringify(copy));
      } catch (error) {
        // Storage full: the text is still in the page.
      }
    }
    form.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(keep, 400);
    });
    form.addEventListener("submit", function () {
      if (timer) { clearTimeout(timer); }
      keep();
      var value = local.getItem(name);
      if (value && session) {
        session.setItem(name, value);
        local.removeItem(name);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.editor[data-draft-key]").forEach(start);
  });
})();
