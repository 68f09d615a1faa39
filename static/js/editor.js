/* Publication editor: the live counters follow the channels that are ticked.
 * Each channel checkbox carries its plan as the server gives it (data-channel-plan, from
 * calendar_app.sending.ChannelPlan); counter.js assembles the parts from it. */
(function () {
  "use strict";

  function selectedPlans() {
    var plans = [];
    document.querySelectorAll("#channel-choice input[type=checkbox][data-channel-plan]").forEach(function (box) {
      if (!box.checked) { return; }
      try {
        plans.push(JSON.parse(box.getAttribute("data-channel-plan")));
      } catch (error) {
        // A plan the page cannot read is not counted; the server's check still runs.
      }
    });
    return plans;
  }

  function refresh() {
    var plans = JSON.stringify(selectedPlans());
    document.querySelectorAll("textarea[data-count-language]").forEach(function (area) {
      area.setAttribute("data-count-channels", plans);
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
