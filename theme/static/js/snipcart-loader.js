// Loads Snipcart only when a visitor first presses a buy button, then hands that click to it.
// Until then the page makes no request to Snipcart: no cookie, no tracker, no weight.
(function () {
  "use strict";
  var config = document.getElementById("snipcart");
  if (!config) { return; }
  var loading = null;

  function load() {
    if (loading) { return loading; }
    loading = new Promise(function (resolve, reject) {
      document.addEventListener("snipcart.ready", resolve, { once: true });
      var style = document.createElement("link");
      style.rel = "stylesheet";
      style.href = config.dataset.vetrinaCss;
      document.head.appendChild(style);
      var script = document.createElement("script");
      script.src = config.dataset.vetrinaJs;
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
