/* Calendar enhancements. Without JavaScript every entry's "Move" link opens a small page.
   - Drag a movable entry to another day of the month (keeps its local time) or to an hour
     of the week at each post's local time (sets the hour); only entries the viewer may move
     are draggable (the server says which), and a refusal says why.
   - The "Move" form opens in place (HTMX): its refusals (400, 403, 409) are shown in place.
   - Offer this device's time zone in the zone picker.
   No inline code, no eval. */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function statusBox() { return document.getElementById("calendar-status"); }

  function announce(text, isError) {
    var status = statusBox();
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  /* What to say when the server refused without a message of its own (an HTML error page). */
  function refusal(code) {
    var status = statusBox();
    var key = code === 403 ? "data-forbidden" : code === 409 ? "data-conflict" : "data-refused";
    return (status && status.getAttribute(key)) || "";
  }

  function networkError() {
    return document.body.getAttribute("data-network-error") || "Network error.";
  }

  function dropCell(event) {
    var cell = event.target.closest ? event.target.closest("td[data-date]") : null;
    return cell;
  }

  function setUpDragAndDrop() {
    var dragged = null;
    document.addEventListener("dragstart", function (event) {
      var item = event.target.closest ? event.target.closest("li.pub[draggable=true]") : null;
      if (!item) { return; }
      dragged = item;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.getAttribute("data-reschedule-url"));
      item.classList.add("dragging");
    });
    document.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("dragging"); }
      dragged = null;
      document.querySelectorAll(".drop-target").forEach(function (cell) { cell.classList.remove("drop-target"); });
    });
    document.addEventListener("dragover", function (event) {
      var cell = dropCell(event);
      if (!cell || !dragged) { return; }
      event.preventDefault();
      cell.classList.add("drop-target");
    });
    document.addEventListener("dragleave", function (event) {
      var cell = dropCell(event);
      if (cell) { cell.classList.remove("drop-target"); }
    });
    document.addEventListener("drop", function (event) {
      var cell = dropCell(event);
      if (!cell || !dragged) { return; }
      event.preventDefault();
      var body = new FormData();
      body.append("local_date", cell.getAttribute("data-date"));
      // A week's hour row sets the time too; a month's day keeps the entry's local time.
      if (cell.hasAttribute("data-time")) { body.append("local_time", cell.getAttribute("data-time")); }
      body.append("revision", dragged.getAttribute("data-revision") || "");
      fetch(dragged.getAttribute("data-reschedule-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
      }).then(function (response) {
        // The server answered: whatever it says is not a network error.
        return response.json().then(function (data) {
          return { ok: response.ok, message: data.message || refusal(response.status) };
        }, function () {
          return { ok: false, message: refusal(response.status) };
        });
      }, function () {
        return { ok: false, message: networkError() };
      }).then(function (result) {
        announce(result.message, !result.ok);
        if (result.ok) { window.setTimeout(function () { window.location.reload(); }, 600); }
      });
    });
  }

  function setUpMoveForms() {
    // htmx leaves 4xx answers unswapped: the "Move" form's refusals are forms to show in place.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var code = event.detail.xhr.status;
      var form = event.detail.requestConfig && event.detail.requestConfig.elt;
      var inCalendar = form && form.closest && form.closest(".calendar-panel");
      if (inCalendar && (code === 400 || code === 403 || code === 409)) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:responseError", function (event) {
      var code = event.detail.xhr.status;
      if (code !== 400 && code !== 403 && code !== 409) { announce(refusal(code), true); }
    });
    document.body.addEventListener("htmx:sendError", function () { announce(networkError(), true); });
  }

  function offerDeviceZone() {
    var select = document.getElementById("id_tz");
    if (!select || !window.Intl || !Intl.DateTimeFormat) { return; }
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone) { return; }
    for (var i = 0; i < select.options.length; i += 1) {
      if (select.options[i].value === zone) { return; }
    }
    var option = document.createElement("option");
    option.value = zone;
    option.textContent = (select.getAttribute("data-device-zone-label") || "") + " (" + zone + ")";
    select.appendChild(option);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpDragAndDrop();
    setUpMoveForms();
    offerDeviceZone();
  });
})();
