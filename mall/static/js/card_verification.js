// Order page, 3-D Secure box (#card-verification): the buyer confirms the payment in the
// bank's window (Stripe.js, loaded before this file), then the mall is asked for the outcome
// and the page reloads. The box carries data-key, data-csrf, data-url and data-failed.
(function () {
  var box = document.getElementById("card-verification"), button = document.getElementById("verify-card"),
      out = document.getElementById("verification-errors");
  if (!box || !button) { return; }
  function ask() {
    return fetch(box.dataset.url, {method: "POST", credentials: "same-origin",
      headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf},
      body: "{}"}).then(function (r) { return r.json().then(function (body) { if (!r.ok) { throw body; } return body; }); });
  }
  button.addEventListener("click", function () {
    if (typeof Stripe !== "function") { out.textContent = box.dataset.failed; return; }
    button.disabled = true;
    out.textContent = "";
    ask().then(function (check) {
      if (!check.client_secret) { return null; }
      return Stripe(box.dataset.key).confirmCardPayment(check.client_secret);
    }).then(function () { return ask().catch(function () { return null; }); })
      .then(function () { window.location.reload(); })
      .catch(function (error) {
        out.textContent = (error && (error.detail || error.message)) || box.dataset.failed;
        button.disabled = false;
      });
  });
}());
