// The supplier performance trend: a line of the monthly scores, drawn from the JSON block
// #performance-data (the same numbers are in the table beside the chart).
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("performance-chart");
    var source = document.getElementById("performance-data");
    if (!canvas || !source || typeof Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    canvas.chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{label: data.label, data: data.scores, spanGaps: true, tension: 0.2, pointRadius: 4, clip: false}]
      },
      options: {
        animation: false,
        scales: {y: {min: 0, max: 100}},
        plugins: {legend: {display: false}}
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
