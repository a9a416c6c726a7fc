// [Top Up Balance]: the USD an amount gives at the published rate, as the server
// computes it (amount x rate, rounded to the cent, half up), in exact integer arithmetic.
(function () {
  "use strict";
  var form = document.querySelector("[data-topup-form]");
  if (!form) return;
  var rates = JSON.parse(document.getElementById("topup-rates").textContent);
  var precisions = JSON.parse(document.getElementById("topup-precisions").textContent);
  var amount = form.querySelector("[name=amount]");
  var currency = form.querySelector("[name=currency]");
  var out = form.querySelector("[data-usd-estimate]");
  var noRate = form.querySelector("[data-no-rate]");

  // "12.3" with 2 places -> 1230n; null when it is not a plain decimal with at most `places` decimals.
  function scaled(text, places) {
    var match = /^(\d+)(?:\.(\d*))?$/.exec(String(text).trim());
    if (!match || (match[2] || "").length > places) return null;
    return BigInt(match[1] + (match[2] || "").padEnd(places, "0"));
  }

  function update() {
    var code = currency.value;
    var rate = rates[code];
    noRate.hidden = Boolean(rate);
    var places = precisions[code] === undefined ? 2 : precisions[code];
    var value = scaled(amount.value, places);
    var r = rate ? scaled(rate, 10) : null;
    if (value === null || r === null || value <= 0n) {
      out.textContent = "—";
      return;
    }
    // value * 10^-places * r * 10^-10 USD, in cents: divide by 10^(places + 8), half up.
    var divisor = 10n ** BigInt(places + 8);
    var cents = (value * r + divisor / 2n) / divisor;
    var whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    out.textContent = whole + "." + (cents % 100n).toString().padStart(2, "0");
  }

  amount.addEventListener("input", update);
  currency.addEventListener("change", update);
  update();
})();
