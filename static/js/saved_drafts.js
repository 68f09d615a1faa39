/* On every page: forget the editor's copies that are no longer needed (see drafts.js).
 *
 * - A save answers with the cookie "editor_saved=<key>|<key>..." (views.publications._saved):
 *   those copies were saved, whatever page comes next (the publication page, the calendar, the
 *   editor), so they are removed from localStorage and sessionStorage and the cookie is emptied.
 * - Logging out (the logout form) removes every copy: on a shared computer the next person
 *   is offered nobody's text. The login page removes nothing: a session that ended gets its
 *   text back after signing in again.
 */
(function () {
  "use strict";

  var PREFIX = "editor-draft:";
  var script = document.currentScript;
  var logoutUrl = script ? script.getAttribute("data-logout-url") : "";

  function forget(matches) {
    ["localStorage", "sessionStorage"].forEach(function (kind) {
      try {
        var storage = window[kind];
        var names = [];
        for (var i = 0; i < storage.length; i += 1) {
          var name = storage.key(i);
          if (name && name.indexOf(PREFIX) === 0 && matches(name.slice(PREFIX.length))) { names.push(name); }
        }
        names.forEach(function (name) { storage.removeItem(name); });
      } catch (error) {
        // Storage off (private mode, a policy): there is nothing kept to forget.
      }
    });
  }

  var match = document.cookie.match(/(?:^|;\s*)editor_saved=([^;]*)/);
  if (match) {
    var saved = decodeURIComponent(match[1]).replace(/^"|"$/g, "").split("|");
    forget(function (key) { return saved.indexOf(key) !== -1; });
    document.cookie = "editor_saved=; Max-Age=0; Path=/; SameSite=Lax" +
      (window.location.protocol === "https:" ? "; Secure" : "");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!logoutUrl || !form || form.tagName !== "FORM") { return; }
    var action = new URL(form.getAttribute("action") || window.location.href, window.location.href);
    if (action.pathname === logoutUrl) {
      forget(function () { return true; });
    }
  });
})();
