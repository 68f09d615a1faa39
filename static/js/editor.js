/* Publication editor: the live counters follow the channels that are ticked. */
(function () {
  "use strict";

  function selectedPlatforms() {
    var platforms = [];
    document.querySelectorAll("#channel-choice input[type=checkbox][data-platform]").forEach(function (box) {
      var platform = box.getAttribute("data-platform");
      if (box.checked && platforms.indexOf(platform) === -1) { platforms.push(platform); }
    });
    return platforms;
  }

  function refresh() {
    var platforms = selectedPlatforms().join(" ");
    document.querySelectorAll("textarea[data-count-platforms]").forEach(function (area) {
      area.setAttribute("data-count-platforms", platforms);
    });
    document.dispatchEvent(new CustomEvent("counter:refresh"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var choice = document.getElementById("channel-choice");
    if (!choice) { return; }
    choice.addEventListener("change", refresh);
    refresh();
  });
})();
