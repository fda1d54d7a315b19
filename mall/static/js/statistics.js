// Statistics page: draws the four charts from the JSON block #statistics-data with Chart.js.
// Each chart's numbers are also in the table beside it; without JavaScript the tables remain.
(function () {
  var block = document.getElementById("statistics-data");
  if (!block || typeof Chart === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var colours = ["#1f5fa8", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085",
                 "#2c3e50", "#f39c12", "#7f8c8d", "#2980b9"];
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    config.options = Object.assign({animation: false, responsive: true}, config.options || {});
    canvas.chart = new Chart(canvas, config);
  }
  draw("trend-chart", {
    type: "bar",
    data: {labels: data.trend.months, datasets: [
      {label: data.labels.amount, data: data.trend.amount, backgroundColor: colours[0],
       yAxisID: "y"},
      {label: data.labels.savings_rate, data: data.trend.savings_rate, type: "line",
       borderColor: colours[1], backgroundColor: colours[1], yAxisID: "rate"}]},
    options: {scales: {y: {beginAtZero: true}, rate: {position: "right", beginAtZero: true,
                                                      grid: {drawOnChartArea: false}}}}
  });
  draw("mode-chart", {
    type: "doughnut",
    data: {labels: data.modes.names, datasets: [
      {label: data.labels.amount, data: data.modes.amount, backgroundColor: colours}]}
  });
  draw("category-chart", {
    type: "bar",
    data: {labels: data.categories.names, datasets: [
      {label: data.labels.amount, data: data.categories.amount, backgroundColor: colours[2]}]},
    options: {indexAxis: "y"}
  });
  draw("supplier-chart", {
    type: "bar",
    data: {labels: data.suppliers.names, datasets: [
      {label: data.labels.amount, data: data.suppliers.amount, backgroundColor: colours[3]}]},
    options: {indexAxis: "y"}
  });
}());
