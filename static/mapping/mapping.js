/* Product Mapping: search-as-you-type for Item IDs and seen store SKUs (filling a
 * <datalist>), and the batch import's progress bar, which polls a JSON endpoint and
 * reloads the page when the work is done. Without JavaScript the pages still work:
 * the Item ID is typed, and the import page shows its state on each reload. */
(function () {
  "use strict";

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, wait);
    };
  }

  function storeIdFor(input) {
    if (input.dataset.storeId) return input.dataset.storeId;
    var field = input.dataset.storeField && document.getElementById(input.dataset.storeField);
    return field ? field.value : "";
  }

  function searchUrl(input, base) {
    var url = new URL(base, window.location.origin);
    var store = storeIdFor(input);
    if (store) url.searchParams.set("store", store);
    url.searchParams.set("q", input.value.trim());
    return url.toString();
  }

  function fill(list, options) {
    list.textContent = "";
    options.forEach(function (option) {
      var element = document.createElement("option");
      element.value = option.value;
      element.label = option.label;
      element.textContent = option.label;
      list.appendChild(element);
    });
  }

  function wire(input, base, toOptions) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    var last = null;
    var run = debounce(function () {
      var url = searchUrl(input, base);
      if (!new URL(url).searchParams.get("store") || url === last) return;
      last = url;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data) fill(list, toOptions(data)); })
        .catch(function () { /* offline or logged out: typing still works */ });
    }, 250);
    input.addEventListener("input", run);
    input.addEventListener("focus", run);
    if (input.dataset.storeField) {
      var field = document.getElementById(input.dataset.storeField);
      if (field) field.addEventListener("change", function () { last = null; fill(list, []); });
    }
  }

  document.querySelectorAll("input[data-item-search]").forEach(function (input) {
    wire(input, input.dataset.itemSearch, function (data) {
      return data.items.map(function (item) { return { value: item.item_id, label: item.label }; });
    });
  });
  document.querySelectorAll("input[data-sku-search]").forEach(function (input) {
    wire(input, input.dataset.skuSearch, function (data) {
      return data.skus.map(function (sku) { return { value: sku.sku, label: sku.label }; });
    });
  });

  var panel = document.querySelector("[data-progress-url]");
  if (panel) {
    var bar = panel.querySelector("[data-progress-bar]");
    var label = panel.querySelector("[data-progress-label]");
    var poll = function () {
      fetch(panel.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return setTimeout(poll, 5000);
          if (!data.running) return window.location.reload();
          if (data.status !== "applying" && bar) {
            bar.style.width = data.percent + "%";
            bar.textContent = data.percent + "%";
            bar.parentElement.setAttribute("aria-valuenow", data.percent);
            if (label) {
              label.textContent = data.status_label + ": " + data.processed.toLocaleString() + " / " + data.total.toLocaleString();
            }
          }
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 1000);
  }
})();
