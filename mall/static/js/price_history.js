// Price case page: the offer's price over time, with the reference price and the other
// suppliers' median of the inspection as flat lines. The same numbers are in the table
// below the chart; without JavaScript the table remains.
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("price-history-data");
    var canvas = document.getElementById("price-history-chart");
    if (!block || !canvas || typeof Chart === "undefined") { return; }
    var data = JSON.parse(block.textContent);
    var labels = data.labels.map(function (iso) {
      return new Date(iso).toLocaleString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false});
    });
    function flat(value) { return labels.map(function () { return value; }); }
    var datasets = [{label: data.names.price, data: data.prices, stepped: true,
                     borderColor: "#1f5fa8", backgroundColor: "#1f5fa8"}];
    if (data.reference !== null) {
      datasets.push({label: data.names.reference, data: flat(data.reference), pointRadius: 0,
                     borderDash: [6, 4], borderColor: "#c0392b", backgroundColor: "#c0392b"});
    }
    if (data.median !== null) {
      datasets.push({label: data.names.median, data: flat(data.median), pointRadius: 0,
                     borderDash: [2, 3], borderColor: "#27ae60", backgroundColor: "#27ae60"});
    }
    canvas.chart = new Chart(canvas, {
      type: "line",
      data: {labels: labels, datasets: datasets},
      options: {animation: false, responsive: true, scales: {y: {beginAtZero: false}}}
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
