/* "Publish now": a button copies the post's exact text, to paste on the platform. Without
   JavaScript the buttons stay hidden and the read-only text can be selected by hand. */
(function () {
  "use strict";

  function copied(button) {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-copied");
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var area = document.getElementById(button.getAttribute("data-copy"));
      if (!area) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(area.value).then(function () { copied(button); }, function () {
            area.select();
          });
        } else {
          area.select();
          if (document.execCommand("copy")) { copied(button); }
        }
      });
    });
  });
})();
