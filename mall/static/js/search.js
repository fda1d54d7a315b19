// Search page: words the catalogue suggests for what is typed in the search box (#q), filled
// into its datalist (#suggestions) from the URL in the box's data-suggest-url.
(function () {
  var input = document.getElementById("q"), list = document.getElementById("suggestions");
  if (!input || !list || !input.dataset.suggestUrl) { return; }
  var url = input.dataset.suggestUrl, timer = null, last = "";
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var text = input.value;
      if (!text.trim() || text === last) { return; }
      last = text;
      fetch(url + "?q=" + encodeURIComponent(text), {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (words) {
          list.replaceChildren.apply(list, words.map(function (w) {
            var option = document.createElement("option"); option.value = w; return option;
          }));
        }).catch(function () {});
    }, 150);
  });
}());
