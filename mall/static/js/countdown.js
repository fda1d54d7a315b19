// Round and quote pages: keeps the time left before the quote deadline (#countdown, its
// data-deadline an ISO time with offset) ticking every second. The page already shows the
// time left as text; this only keeps it current.
(function () {
  var box = document.getElementById("countdown");
  if (!box || !box.dataset.deadline) { return; }
  var deadline = Date.parse(box.dataset.deadline);
  if (isNaN(deadline)) { return; }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.floor((deadline - Date.now()) / 1000);
    if (left <= 0) { box.textContent = box.dataset.closed || ""; return; }
    var days = Math.floor(left / 86400), rest = left % 86400;
    box.textContent = (days ? days + " " + (box.dataset.days || "d") + " " : "") +
      two(Math.floor(rest / 3600)) + ":" + two(Math.floor(rest % 3600 / 60)) + ":" + two(rest % 60);
    setTimeout(tick, 1000);
  }
  tick();
}());
