/*
 * The approval queue by keyboard: j / k move between items, a approves the item, r puts
 * the cursor in its comment (to request changes), Escape leaves a field for the item.
 * The keys never fire while typing in a field or with a modifier held.
 *
 * A decision taken in place (HTMX swaps the item) moves the focus to the next item still
 * waiting and says what happened in the page's status region (role="status"). Without
 * JavaScript every button is a plain form: the page reloads with its message.
 *
 * Markup: items are [data-queue-item] (focusable, tabindex="-1"); a decided one carries
 * [data-decided]; [data-queue-approve], [data-queue-comment], [data-queue-message] inside;
 * [data-queue-status] and [data-queue-keys] once on the page.
 */
(function () {
  "use strict";

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-item]"));
  }

  function currentItem() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("[data-queue-item]") : null;
  }

  function isTyping(target) {
    if (!target || !target.closest) { return false; }
    if (target.isContentEditable) { return true; }
    return Boolean(target.closest("input, textarea, select, [contenteditable]"));
  }

  function say(text) {
    var status = document.querySelector("[data-queue-status]");
    if (!status) { return; }
    // Emptied first, so the same words said twice are announced twice.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function focusItem(item) {
    if (!item) { return; }
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = items();
    if (!list.length) { return; }
    var index = list.indexOf(currentItem());
    var next = index === -1 ? (step > 0 ? 0 : list.length - 1) : index + step;
    if (next < 0 || next >= list.length) { return; }
    focusItem(list[next]);
  }

  function nextWaiting(after) {
    var list = items();
    var start = list.indexOf(after);
    for (var i = start + 1; i < list.length; i += 1) {
      if (!list[i].hasAttribute("data-decided")) { return list[i]; }
    }
    for (var j = 0; j < start; j += 1) {
      if (!list[j].hasAttribute("data-decided")) { return list[j]; }
    }
    return null;
  }

  function approve(item) {
    var button = item.querySelector("[data-queue-approve]");
    if (!button) { return; }
    if (button.disabled) {
      var status = document.querySelector("[data-queue-status]");
      say(status ? status.getAttribute("data-blocked") : "");
      return;
    }
    button.click();
  }

  function requestChanges(item) {
    var comment = item.querySelector("[data-queue-comment]");
    if (comment) { comment.focus(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape" && isTyping(event.target)) {
      var holder = event.target.closest("[data-queue-item]");
      if (holder) { focusItem(holder); }
      return;
    }
    if (isTyping(event.target)) { return; }
    var item = currentItem();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": if (item) { approve(item); } else { return; } break;
      case "r": if (item) { requestChanges(item); } else { return; } break;
      default: return;
    }
    // The letter must not reach the field that may have just taken the focus.
    event.preventDefault();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var item = event.detail && event.detail.target;
    // outerHTML: the target left the page; its replacement has the same id.
    var swapped = item && item.id ? document.getElementById(item.id) : null;
    if (!swapped || !swapped.hasAttribute("data-queue-item")) { return; }
    var message = swapped.querySelector("[data-queue-message]");
    var text = message ? message.textContent.replace(/\s+/g, " ").trim() : "";
    if (swapped.hasAttribute("data-decided")) {
      var next = nextWaiting(swapped);
      focusItem(next || swapped);
    } else {
      // Refused (a comment missing, someone acted first): stay on it, at its comment.
      focusItem(swapped);
    }
    say(text);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var keys = document.querySelector("[data-queue-keys]");
    if (keys && items().length) { keys.hidden = false; }
  });
})();
