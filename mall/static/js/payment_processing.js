// Order page: while a card payment is processing (#payment-processing), poll the payments
// (URL in its data-poll) and reload once none is pending or processing.
(function () {
  var box = document.getElementById("payment-processing"), tries = 0;
  if (!box) { return; }
  function poll() {
    tries += 1;
    fetch(box.dataset.poll, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (rows) {
        var waiting = !rows || rows.some(function (p) { return p.status === "pending" || p.status === "processing"; });
        if (!waiting) { window.location.reload(); } else if (tries < 150) { setTimeout(poll, 1000); }
      }).catch(function () { if (tries < 150) { setTimeout(poll, 2000); } });
  }
  setTimeout(poll, 1000);
}());
