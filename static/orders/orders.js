// Orders pages: select-all for bulk actions, confirming a cancel, the bulk hold's reason,
// selecting orders that can be merged, the split table, the logistics card's cost preview,
// and live progress for imports and syncs.
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
  // A button with data-requires="<field name>" (bulk hold) submits only once that field is
  // filled in; the browser's own bubble says so.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-requires]");
    if (!button || !button.form) { return; }
    var field = button.form.elements[button.getAttribute("data-requires")];
    if (field && !field.value.trim()) {
      event.preventDefault();
      field.required = true;
      field.reportValidity();
      field.required = false;
      field.focus();
    }
  });

  // "Can be merged with N": selects that group's orders (at most data-merge-max), and only them.
  document.querySelectorAll("[data-select-group]").forEach(function (badge) {
    badge.addEventListener("click", function () {
      var group = badge.getAttribute("data-select-group");
      var most = Number(badge.getAttribute("data-merge-max")) || 20;
      var chosen = 0;
      document.querySelectorAll("input[name=order_ids]").forEach(function (box) {
        var mine = box.getAttribute("data-merge-group") === group && chosen < most;
        box.checked = mine;
        if (mine) { chosen += 1; }
        box.dispatchEvent(new Event("change"));
      });
    });
  });

  // The split page: one quantity column per part; each line shows what the parts hold
  // against what was ordered, and the order is split only once every line adds up.
  var split = document.querySelector("form[data-split]");
  if (split) {
    var maxParts = Number(split.getAttribute("data-max-parts")) || 20;
    var partLabel = split.getAttribute("data-part-label") || "__n__";
    var quantityLabel = split.getAttribute("data-quantity-label") || "";
    var status = split.querySelector("[data-split-status]");
    var submit = split.querySelector("[type=submit]");
    var addPart = split.querySelector("[data-add-part]");
    var removePart = split.querySelector("[data-remove-part]");
    var partCount = function () { return split.querySelectorAll("thead th[data-part]").length; };
    var value = function (input) {
      var text = input.value.trim();
      if (text === "") { return 0; }
      return /^[0-9]+$/.test(text) ? Number(text) : NaN;
    };
    var check = function () {
      var lines = true;
      var parts = [];
      for (var n = 0; n < partCount(); n += 1) { parts.push(0); }
      split.querySelectorAll("tbody tr[data-line]").forEach(function (row) {
        var given = 0;
        row.querySelectorAll("input[name^=part]").forEach(function (input, index) {
          var quantity = value(input);
          given += quantity;
          if (quantity > 0) { parts[index] += quantity; }
        });
        var ok = given === Number(row.getAttribute("data-quantity"));
        row.querySelector("[data-given]").textContent = isNaN(given) ? "?" : String(given);
        var cell = row.querySelector("[data-line-check]");
        cell.classList.toggle("text-success", ok);
        cell.classList.toggle("text-danger", !ok);
        cell.classList.toggle("fw-semibold", !ok);
        row.classList.toggle("table-danger", !ok);
        lines = lines && ok;
      });
      var empty = parts.some(function (sum) { return sum === 0; });
      split.querySelectorAll("thead th[data-part]").forEach(function (th, index) {
        th.classList.toggle("text-danger", parts[index] === 0);
      });
      status.textContent = status.getAttribute(!lines ? "data-text-off" : empty ? "data-text-empty" : "data-text-ok");
      status.classList.toggle("text-danger", !lines || empty);
      status.classList.toggle("text-success", lines && !empty);
      submit.disabled = !lines || empty;
      addPart.disabled = partCount() >= maxParts;
      removePart.disabled = partCount() <= 2;
    };
    addPart.addEventListener("click", function () {
      var n = partCount() + 1;
      if (n > maxParts) { return; }
      var heads = split.querySelectorAll("thead th[data-part]");
      var head = heads[heads.length - 1].cloneNode(false);
      head.setAttribute("data-part", String(n));
      head.textContent = partLabel.replace("__n__", String(n));
      heads[heads.length - 1].after(head);
      split.querySelectorAll("tbody tr[data-line]").forEach(function (row) {
        var cells = row.querySelectorAll("td[data-part]");
        var cell = cells[cells.length - 1].cloneNode(true);
        var input = cell.querySelector("input");
        cell.setAttribute("data-part", String(n));
        input.name = "part" + n + "_" + row.getAttribute("data-line");
        input.value = "0";
        input.setAttribute("aria-label", quantityLabel + " " + n + " · " + row.getAttribute("data-code"));
        cells[cells.length - 1].after(cell);
      });
      check();
    });
    removePart.addEventListener("click", function () {
      if (partCount() <= 2) { return; }
      var heads = split.querySelectorAll("thead th[data-part]");
      heads[heads.length - 1].remove();
      split.querySelectorAll("tbody tr[data-line]").forEach(function (row) {
        var cells = row.querySelectorAll("td[data-part]");
        cells[cells.length - 1].remove();
      });
      check();
    });
    split.addEventListener("input", check);
    check();
  }

  // The order page's Logistics card: picking an option shows in the Costs card what the
  // order would cost with it (each option carries its figures, priced by the server);
  // picking the saved option again shows the saved costs. [Save logistics] applies it.
  var logistics = document.querySelector("form[data-logistics-form]");
  var costs = document.querySelector("[data-testid=costs]");
  if (logistics && costs) {
    var saved = {};
    costs.querySelectorAll("[data-cost]").forEach(function (cell) {
      saved[cell.getAttribute("data-cost")] = cell.textContent;
    });
    var note = costs.querySelector("[data-cost-preview]");
    logistics.addEventListener("change", function (event) {
      var radio = event.target;
      if (radio.name !== "logistics_choice") { return; }
      var preview = !radio.defaultChecked && radio.hasAttribute("data-total");
      ["shipping", "handling", "total"].forEach(function (name) {
        var cell = costs.querySelector("[data-cost=" + name + "]");
        if (!cell) { return; }
        cell.textContent = preview
          ? radio.getAttribute("data-" + name) + " " + radio.getAttribute("data-currency")
          : saved[name];
      });
      if (note) { note.hidden = !preview; }
    });
  }

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
