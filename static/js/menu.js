/* The header menu: a <details> that is always open on wide screens (the stylesheet shows its
   content there too; this covers browsers without ::details-content) and closes with Escape
   on narrow ones, giving focus back to its toggle. Without JavaScript it is a plain <details>. */
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
