/* The header menus: the main one is a <details> always open on wide screens (the stylesheet
   shows its content there too; this covers browsers without ::details-content); an open menu
   closes with Escape, giving focus back to its toggle, and the account's menu closes on a click
   elsewhere. Without JavaScript both are plain <details>. */
(function () {
  "use strict";
  var WIDE = "(min-width: 64.001rem)";

  function setUp() {
    var menu = document.getElementById("site-menu");
    if (!menu || !window.matchMedia) { return; }
    var wide = window.matchMedia(WIDE);
    function follow() { menu.open = wide.matches; }
    follow();
    if (wide.addEventListener) { wide.addEventListener("change", follow); }
    // A click elsewhere folds the account's menu, as a dropdown does.
    document.addEventListener("click", function (event) {
      document.querySelectorAll(".account-menu[open]").forEach(function (account) {
        if (!account.contains(event.target)) { account.open = false; }
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var open = event.target.closest ? event.target.closest("details[open]") : null;
      if (!open || (open === menu && wide.matches)) { return; }
      open.open = false;
      var summary = open.querySelector("summary");
      if (summary) { summary.focus(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
