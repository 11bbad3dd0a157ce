// A variant's own URL (?variante=SKU) chooses it in the picker; choosing another writes its URL back.
(function () {
  var picker = document.querySelector(".variant-picker");
  if (!picker) return;
  var name = picker.getAttribute("data-parameter");
  var wanted = new URLSearchParams(location.search).get(name);
  var radios = picker.querySelectorAll("input[type=radio]");
  radios.forEach(function (radio) {
    if (radio.value === wanted) radio.checked = true;
    radio.addEventListener("change", function () {
      var query = new URLSearchParams(location.search);
      query.set(name, radio.value);
      history.replaceState(null, "", "?" + query.toString() + location.hash);
    });
  });
})();
