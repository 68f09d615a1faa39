/* Calendar enhancements: drag a publication to another day (keeps its local time),
   and offer this device's time zone in the zone picker. Without JavaScript the
   publication page's "Move" form does the same. No inline code, no eval. */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(text, isError) {
    var status = document.getElementById("calendar-status");
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
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
      document.querySelectorAll(".drop-target").forEach(function (cell) { cell.classList.remove("drop-target"); });
    });
    document.addEventListener("dragover", function (event) {
      var cell = event.target.closest ? event.target.closest("td[data-date]") : null;
      if (!cell || !dragged) { return; }
      event.preventDefault();
      cell.classList.add("drop-target");
    });
    document.addEventListener("dragleave", function (event) {
      var cell = event.target.closest ? event.target.closest("td[data-date]") : null;
      if (cell) { cell.classList.remove("drop-target"); }
    });
    document.addEventListener("drop", function (event) {
      var cell = event.target.closest ? event.target.closest("td[data-date]") : null;
      if (!cell || !dragged) { return; }
      event.preventDefault();
      var body = new FormData();
      body.append("local_date", cell.getAttribute("data-date"));
      body.append("revision", dragged.getAttribute("data-revision") || "");
      fetch(dragged.getAttribute("data-reschedule-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        announce(result.data.message, !result.ok);
        if (result.ok) { window.setTimeout(function () { window.location.reload(); }, 600); }
      }).catch(function () {
        announce(document.body.getAttribute("data-network-error") || "Network error.", true);
      });
    });
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
    offerDeviceZone();
  });
})();
