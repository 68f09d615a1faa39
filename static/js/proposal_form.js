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
 * 3. The preview follows the texts through HTMX (attributes in _proposal_preview.html): the
 *    "Show the preview" button, for pages without JavaScript, is not needed.
 * Every text shown comes from the page's data attributes, translated by the server.
 */
(function () {
  "use strict";

  var SAVE_DELAY_MS = 400;

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

  function offer(form, notice, key, record, onDecided) {
    var data = notice.dataset;
    var text = document.createElement("p");
    text.textContent = (data.found || "").replace("%(when)s", timeOf(record.savedAt, true));
    if (record.photo) { text.textContent += " " + (data.photo || ""); }
    var actions = document.createElement("p");
    actions.className = "actions";
    function decided(message) {
      notice.textContent = message;
      onDecided();
    }
    actions.appendChild(button(data.restore || "", "", function () {
      restore(form, record.values);
      decided(data.restored || "");
    }));
    actions.appendChild(button(data.discard || "", "secondary", function () {
      forget(key);
      decided(data.discarded || "");
    }));
    notice.replaceChildren(text, actions);
    notice.hidden = false;
  }

  function keepCopies(form) {
    var key = form.getAttribute("data-draft-key");
    var notice = document.getElementById("draft-notice");
    var status = document.getElementById("draft-status");
    if (!key || !store()) { return; }
    var record = read(key);
    // Until the partner answers the offer, typing does not overwrite the older copy.
    var undecided = false;
    if (record && hasWords(record.values) && !sameValues(record.values, snapshot(form)) && notice) {
      undecided = true;
      offer(form, notice, key, record, function () { undecided = false; });
    }
    var timer = null;
    function save() {
      timer = null;
      if (undecided) { return; }
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
