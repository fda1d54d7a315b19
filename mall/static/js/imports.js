// Bulk import page: each running import's row (tr[data-progress-url]) follows its progress.
// The translated texts come from the data-label-rows and data-label-counts attributes of the
// table (#imports), with %(name)s placeholders.
(function () {
  var table = document.querySelector("[data-label-rows]");
  if (!table) { return; }
  var labels = {rows: table.dataset.labelRows, counts: table.dataset.labelCounts};
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, key) { return (values[key] || 0).toLocaleString(); });
  }
  function poll(row) {
    var url = row.getAttribute("data-progress-url");
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        var bar = row.querySelector("progress");
        if (p.percent === null) { bar.removeAttribute("value"); } else { bar.value = p.percent; bar.textContent = p.percent + "%"; }
        row.querySelector("[data-field=status] .tag").textContent = p.status_text;
        row.querySelector("[data-field=status] .tag").className = "tag tag-" + p.status;
        row.querySelector("[data-field=rows]").textContent = fill(labels.rows, {done: p.rows_done, total: p.rows_total});
        row.querySelector("[data-field=counts]").textContent = fill(labels.counts, p);
        row.querySelector("[data-field=failure]").textContent = p.failure || "";
        var link = row.querySelector("[data-field=errors]");
        if (p.error_report) { link.href = p.error_report; link.hidden = false; }
        if (!p.finished) { setTimeout(function () { poll(row); }, 1000); }
      })
      .catch(function () { setTimeout(function () { poll(row); }, 3000); });
  }
  document.querySelectorAll("tr[data-progress-url]").forEach(function (row) {
    setTimeout(function () { poll(row); }, 1000);
  });
}());
