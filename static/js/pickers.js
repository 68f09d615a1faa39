/* Pickers: a multiple select marked data-picker becomes a searchable list (Tom Select, vendored
   in static/vendor/tom-select-2.6.2/). Without JavaScript, or when Tom Select did not load, it
   stays the plain multiple select the server rendered, which submits the same values.
   Every text shown comes from the select's data attributes, translated by the server. */
(function () {
  "use strict";

  function message(text, className) {
    var element = document.createElement("div");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function enhance(select) {
    if (select.tomselect || typeof window.TomSelect !== "function") { return; }
    var data = select.dataset;
    var picker = new window.TomSelect(select, {
      plugins: { remove_button: { title: data.removeLabel || "", label: "×" } },
      placeholder: data.placeholder || "",
      hidePlaceholder: true,
      maxOptions: null,
      // Filter as each letter is typed: Enter right after typing picks what the list now shows.
      refreshThrottle: 0,
      // Keep the list open to pick several in a row; Escape or Tab closes it.
      closeAfterSelect: false,
      // After a pick, an empty search: the next letters look for the next one.
      onItemAdd: function () {
        this.setTextboxValue("");
        this.refreshOptions(false);
      },
      render: {
        no_results: function () { return message(data.noResults || "", "no-results"); }
      }
    });
    // The select now only carries the values: its label names the picker's search box
    // (Tom Select points the label there), so assistive technology meets one control, not two.
    select.setAttribute("aria-hidden", "true");
    return picker;
  }

  function enhanceAll(root) {
    root.querySelectorAll("select[data-picker]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  // A form swapped in by HTMX gets its pickers too.
  document.addEventListener("htmx:afterSettle", function (event) { enhanceAll(event.target); });
})();
