// Loads Snipcart only when a visitor first presses a buy button, then hands that click to it.
// Until then the page makes no request to Snipcart: no cookie, no tracker, no weight.
// With a hash pinned in SITE_INTEGRITY the browser runs Snipcart's files only if they are byte-identical.
(function () {
  "use strict";
  var config = document.getElementById("snipcart");
  if (!config) { return; }
  var loading = null;

  function pin(element, integrity) {
    if (!integrity) { return; }
    element.integrity = integrity;
    element.crossOrigin = "anonymous";
  }

  function load() {
    if (loading) { return loading; }
    loading = new Promise(function (resolve, reject) {
      document.addEventListener("snipcart.ready", resolve, { once: true });
      var style = document.createElement("link");
      style.rel = "stylesheet";
      style.href = config.dataset.vetrinaCss;
      pin(style, config.dataset.vetrinaCssIntegrity);
      document.head.appendChild(style);
      var script = document.createElement("script");
      script.src = config.dataset.vetrinaJs;
      pin(script, config.dataset.vetrinaJsIntegrity);
      script.async = true;
      script.onerror = reject;
      document.head.appendChild(script);
    });
    return loading;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".snipcart-add-item");
    if (!button || window.Snipcart) { return; }
    event.preventDefault();
    event.stopPropagation();
    button.setAttribute("aria-busy", "true");
    load().then(function () {
      button.removeAttribute("aria-busy");
      button.click();
    }, function () {
      button.removeAttribute("aria-busy");
      var fallback = button.parentNode.querySelector("noscript");
      if (fallback) { button.insertAdjacentHTML("afterend", fallback.textContent); }
    });
  }, true);
})();
