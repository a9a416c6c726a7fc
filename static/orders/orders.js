// Orders pages: select-all for bulk actions, confirming a cancel, and live progress for imports and syncs.
(function () {
  "use strict";

  var all = document.querySelector("[data-select-all]");
  if (all) {
    var boxes = function () { return document.querySelectorAll("input[name=order_ids]"); };
    var counter = document.querySelector("[data-selected-count]");
    var refresh = function () {
      var n = 0;
      boxes().forEach(function (box) { if (box.checked) { n += 1; } });
      if (counter) { counter.textContent = String(n); }
      document.querySelectorAll("[data-needs-selection]").forEach(function (button) { button.disabled = n === 0; });
    };
    all.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = all.checked; });
      refresh();
    });
    boxes().forEach(function (box) { box.addEventListener("change", refresh); });
    refresh();
  }

  // A button with data-confirm (cancelling) submits only once the person confirms it.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.hasAttribute("data-confirm") && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  // Enter in a field marked data-no-enter (the bulk cancel reason) would submit the form's
  // first button (Pay selected), so it does nothing there.
  document.querySelectorAll("[data-no-enter]").forEach(function (field) {
    field.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); } });
  });

  // A progress bar that follows a JSON status URL and reloads the page when the work ends,
  // so a reload in between simply shows the bar where the row says it is.
  document.querySelectorAll("[data-progress-url]").forEach(function (element) {
    var url = element.getAttribute("data-progress-url");
    var bar = element.querySelector(".progress-bar");
    var label = element.querySelector("[data-progress-label]");
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          if (bar && typeof state.percent === "number") {
            bar.style.width = state.percent + "%";
            bar.setAttribute("aria-valuenow", String(state.percent));
            bar.textContent = state.percent + "%";
          }
          if (label && state.total_rows) { label.textContent = state.processed_rows + " / " + state.total_rows; }
          if (state.busy === false || state.finished === true) { window.location.reload(); return; }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  });

  var reloadAfter = document.querySelector("[data-reload-after]");
  if (reloadAfter) {
    window.setTimeout(function () { window.location.reload(); }, Number(reloadAfter.getAttribute("data-reload-after")) || 3000);
  }
})();
