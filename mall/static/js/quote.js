// Quote page: fills the quote form's hidden device_fingerprint field (#device_fingerprint)
// with a SHA-256 of what the browser tells about itself (user agent, languages, screen, time
// zone, platform, processor count). The mall keeps it with each quote submission for the
// collusion signals; without Web Crypto (an insecure origin) the field stays empty.
(function () {
  var field = document.getElementById("device_fingerprint");
  if (!field || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  var screenText = window.screen ? [screen.width, screen.height, screen.colorDepth].join("x") : "";
  var parts = [
    navigator.userAgent || "",
    (navigator.languages || [navigator.language || ""]).join(","),
    screenText,
    zone,
    String(new Date().getTimezoneOffset()),
    navigator.platform || "",
    String(navigator.hardwareConcurrency || "")
  ];
  window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("|")))
    .then(function (digest) {
      field.value = Array.prototype.map.call(new Uint8Array(digest), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
    }).catch(function () {});
}());
