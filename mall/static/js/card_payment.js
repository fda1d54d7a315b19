// Order page, card form (#form-pay-card): Stripe.js (loaded before this file) reads the card
// in #card-element and the form sends only the token. The form carries data-key and
// data-failed; #card-element carries data-labels (JSON: field placeholder -> accessible name).
(function () {
  var form = document.getElementById("form-pay-card"), out = document.getElementById("card-errors");
  if (!form) { return; }
  if (typeof Stripe !== "function") { out.textContent = form.dataset.failed; return; }
  var stripe = Stripe(form.dataset.key), card = stripe.elements().create("card");
  var element = document.getElementById("card-element");
  card.mount(element);
  var labels = JSON.parse(element.dataset.labels || "{}");
  Array.prototype.forEach.call(element.querySelectorAll("input"), function (input) {
    var name = input.getAttribute("placeholder");
    if (labels[name]) { input.setAttribute("aria-label", labels[name]); input.setAttribute("name", "card-" + name); input.setAttribute("autocomplete", "off"); }
  });
  var hidden = form.querySelector("input[name=payment_method]"), button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", function (event) {
    if (hidden.value) { return; }
    event.preventDefault();
    button.disabled = true;
    out.textContent = "";
    Promise.resolve().then(function () { return stripe.createToken(card); }).then(function (result) {
      if (!result || result.error || !result.token) { throw (result && result.error) || new Error(); }
      hidden.value = result.token.card.id;
      form.submit();
    }).catch(function (error) {
      out.textContent = (error && error.message) || form.dataset.failed;
      button.disabled = false;
    });
  });
}());
