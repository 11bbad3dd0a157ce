/* The cart: lines kept in localStorage, priced from the build's cart.json with the rule of plugins/shop/cart.py
   (PriceList.totals). The stored price and name are only a cache: every total is computed again from cart.json. */
(function (d) {
  "use strict";
  var KEY = "vetrina-cart", MAX_QUANTITY = 99, MAX_LINES = 50;
  var root = d.querySelector("[data-cart-page]");

  function stored() {
    try { var lines = JSON.parse(localStorage.getItem(KEY)); return lines && lines.push ? lines : []; }
    catch (e) { return []; }
  }

  function store(lines) {
    try { localStorage.setItem(KEY, JSON.stringify(lines)); } catch (e) { /* private mode: the page still shows them */ }
    var count = 0;
    lines.forEach(function (line) { count += +line.q || 0; });
    d.querySelectorAll("[data-cart-count]").forEach(function (el) { el.textContent = count; el.hidden = !count; });
  }

  function quantity(value) {
    var number = parseInt(value, 10);
    return isNaN(number) ? 1 : Math.min(MAX_QUANTITY, Math.max(1, number));
  }

  // Amounts in cents, from the text with a dot that cart.json writes: no sum of floats.
  function cents(text) { return Math.round(Number(text) * 100); }

  // The cart priced: a sku stored twice is one line; a sku not sold or not purchasable is shown, not counted.
  function priced(list, lines) {
    var merged = [], bySku = {};
    lines.forEach(function (line) {
      var sku = String(line.s), known = bySku[sku];
      if (known) { known.q = Math.min(MAX_QUANTITY, known.q + quantity(line.q)); return; }
      merged.push(bySku[sku] = { s: sku, q: quantity(line.q), p: line.p, n: line.n });
    });
    var subtotal = 0, rates = [], counted = 0;
    var shown = merged.map(function (line) {
      var offer = list.offers[line.s], state = !offer ? "unknown" : !offer[3] ? "unavailable" : "ok";
      if (state === "ok" && ++counted > MAX_LINES) state = "unknown";
      var row = { line: line, offer: offer, state: state, total: 0 };
      if (state === "ok") {
        row.total = cents(offer[1]) * line.q;
        subtotal += row.total;
        if (offer[2] !== null) rates.push(cents(list.rates[offer[2]]));
      }
      return row;
    });
    var free = !rates.length || (list.free_from !== null && subtotal >= cents(list.free_from));
    var shipping = free ? 0 : Math.max.apply(null, rates);
    return { rows: shown, merged: merged, subtotal: subtotal, shipping: shipping, total: subtotal + shipping,
             shipped: rates.length > 0, counted: shown.filter(function (row) { return row.state === "ok"; }) };
  }

  function fill(template, values) {
    var i = 0;
    return template.replace(/%s/g, function () { return values[i++]; });
  }

  // --- product pages: say what was added, next to the button --------------------------------------------------
  d.cartShow = function (button) {
    var status = button.nextElementSibling;
    if (!status || !status.matches("[data-cart-status]")) return;
    var link = status.querySelector("a");
    status.textContent = button.dataset.added + " ";
    if (link) { link.hidden = false; status.appendChild(link); }
  };
  if (d.cartAdded) d.cartShow(d.cartAdded);
  if (!root) return;

  // --- the cart page -----------------------------------------------------------------------------------------
  var t = root.dataset, lang = t.lang, list = null, format = null, result = null;
  var part = function (name) { return root.querySelector("[data-" + name + "]"); };
  var body = part("cart-lines"), rowTemplate = part("cart-row"), live = part("cart-live");

  function money(amount) { return format.format(amount / 100); }
  function amountText(amount) { return (amount / 100).toFixed(2); }
  function say(text) { live.textContent = ""; setTimeout(function () { live.textContent = text; }, 50); }

  function name(row) { return row.offer ? row.offer[0] : row.line.n || row.line.s; }

  function drawRows() {
    body.textContent = "";
    result.rows.forEach(function (row, index) {
      var tr = rowTemplate.content.firstElementChild.cloneNode(true);
      var q = tr.querySelector("input"), label = tr.querySelector("label"), link = tr.querySelector("[data-name]");
      var img = tr.querySelector("img"), remove = tr.querySelector("[data-remove]");
      tr.dataset.sku = row.line.s;
      link.textContent = name(row);
      if (row.offer) { link.href = row.offer[4]; img.src = row.offer[5]; } else { link.removeAttribute("href"); }
      q.id = "cart-quantity-" + index;
      q.value = row.line.q;
      label.htmlFor = q.id;
      label.textContent = fill(t.tQuantity, [name(row)]);
      remove.setAttribute("aria-label", fill(t.tRemove, [name(row)]));
      if (row.state !== "ok") {
        q.disabled = true;
        tr.classList.add("cart-line-off");
        tr.querySelector("[data-note]").textContent = row.state === "unknown" ? t.tUnknown : t.tUnavailable;
      }
      q.addEventListener("change", function () { change(row.line.s, q.value); });
      remove.addEventListener("click", function () { drop(row.line.s, index); });
      body.appendChild(tr);
    });
  }

  function orderText() {
    var lines = result.counted.map(function (row) {
      return row.line.q + " × " + row.offer[0] + " (" + t.tSku + ": " + row.line.s + "): " + money(row.total);
    });
    var shipping = result.shipping ? money(result.shipping) : result.shipped ? t.tFree : t.tNone;
    return [t.tHello].concat(lines, ["", t.tShipping + ": " + shipping, t.tTotal + ": " + money(result.total), "",
                                      t.tAddress, ""]).join("\n");
  }

  function hidden(form, name, value) {
    var input = d.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value;
    form.appendChild(input);
  }

  function drawCheckout() {
    var text = orderText(), mail = part("cart-mailto"), area = part("cart-text");
    if (mail) {
      var address = mail.getAttribute("href").split("?")[0];
      mail.href = address + "?subject=" + encodeURIComponent(t.tSubject) + "&body=" + encodeURIComponent(text);
    }
    if (area) area.value = text;
    root.querySelectorAll("[data-cart-fields]").forEach(function (fields) {
      fields.textContent = "";
      var paypal = fields.closest("[data-cart-paypal]");
      result.counted.forEach(function (row, i) {
        if (paypal) {
          var n = "_" + (i + 1);
          hidden(fields, "item_name" + n, row.offer[0]);
          hidden(fields, "item_number" + n, row.line.s);
          hidden(fields, "amount" + n, row.offer[1]);
          hidden(fields, "quantity" + n, row.line.q);
          // The cart's one parcel rides on the first item, once whatever its quantity; the others ship free.
          hidden(fields, "shipping" + n, amountText(i ? 0 : result.shipping));
          hidden(fields, "shipping2" + n, "0.00");
        } else {
          hidden(fields, "sku", row.line.s);
          hidden(fields, "quantity", row.line.q);
        }
      });
      if (paypal) hidden(fields, "no_shipping", result.shipped ? "2" : "1");
    });
    var total = part("cart-total-field");
    if (total) total.value = amountText(result.total);
    part("cart-checkout") && (part("cart-checkout").hidden = !result.counted.length);
  }

  function drawTotals() {
    result.rows.forEach(function (row) {
      var tr = body.querySelector("tr[data-sku='" + CSS.escape(row.line.s) + "']");
      if (!tr) return;
      tr.querySelector("[data-unit]").textContent = row.offer && row.state === "ok" ? money(cents(row.offer[1])) : "–";
      tr.querySelector("[data-line-total]").textContent = row.state === "ok" ? money(row.total) : "–";
    });
    part("subtotal").textContent = money(result.subtotal);
    part("shipping").textContent = result.shipping ? money(result.shipping) : result.shipped ? t.tFree : t.tNone;
    part("total").textContent = money(result.total);
    var missing = list.free_from === null || !result.shipping ? 0 : cents(list.free_from) - result.subtotal;
    part("free-missing").textContent = missing > 0 ? fill(t.tMissing, [money(missing)]) : "";
    drawCheckout();
  }

  // Price the stored lines again and write back what was merged, clamped and cached (names, prices).
  function compute() {
    result = priced(list, stored());
    result.merged.forEach(function (line) {
      var offer = list.offers[line.s];
      if (offer) { line.n = offer[0]; line.p = offer[1]; }
    });
    store(result.merged);
    part("cart-empty").hidden = result.rows.length > 0;
    part("cart-full").hidden = !result.rows.length;
  }

  function change(sku, value) {
    var lines = stored(), q = quantity(value);
    lines.forEach(function (line) { if (String(line.s) === sku) line.q = q; });
    store(lines);
    compute();
    var row = result.rows.filter(function (r) { return r.line.s === sku; })[0];
    var input = body.querySelector("tr[data-sku='" + CSS.escape(sku) + "'] input");
    if (input && String(input.value) !== String(q)) input.value = q;
    drawTotals();
    say(fill(t.tChanged, [name(row), q, money(result.total)]));
  }

  function drop(sku, index) {
    var gone = result.rows.filter(function (r) { return r.line.s === sku; })[0];
    store(stored().filter(function (line) { return String(line.s) !== sku; }));
    compute();
    drawRows();
    drawTotals();
    var next = body.querySelectorAll("tr")[Math.min(index, result.rows.length - 1)];
    var focus = next ? next.querySelector("[data-remove]") : part("cart-empty").querySelector("a");
    if (focus) focus.focus();
    say(fill(t.tRemoved, [name(gone)]));
  }

  function draw() { compute(); drawRows(); drawTotals(); }


  // After an order: the endpoint's receipt links back here with the key this browser sent the order with, PayPal
  // returns here after a payment. The key is kept while the cart stays the same (a second click sends the same
  // order, which the endpoint records once).
  var SENT = KEY + "-sent", params = new URLSearchParams(location.search);
  function sent() { try { return JSON.parse(localStorage.getItem(SENT)) || {}; } catch (e) { return {}; } }
  var back = params.get(t.sent);
  if (params.get(t.paid) === "1" || back && back === sent().k) {
    store([]);
    try { localStorage.removeItem(SENT); } catch (e) { /* nothing kept */ }
    part("cart-done").hidden = false;
  }
  var orderForm = root.querySelector("[data-cart-form]");
  if (orderForm) orderForm.addEventListener("submit", function () {
    var lines = JSON.stringify(stored()), last = sent();
    var key = last.c === lines && last.k ? last.k : Date.now().toString(36) + Math.random().toString(36).slice(2);
    try { localStorage.setItem(SENT, JSON.stringify({ k: key, c: lines })); } catch (e) { /* no key: no emptying */ }
    var field = orderForm.querySelector("input[name=nonce]");
    if (!field) hidden(orderForm, "nonce", key); else field.value = key;
  });
  var copy = part("cart-copy");
  if (copy) copy.addEventListener("click", function () {
    var area = part("cart-text");
    var done = function () { say(t.tCopied); };
    if (navigator.clipboard) navigator.clipboard.writeText(area.value).then(done, function () { area.select(); });
    else { area.select(); if (d.execCommand("copy")) done(); }
  });

  fetch(t.prices, { credentials: "same-origin" })
    .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
    .then(function (data) {
      list = data;
      // "always": CLDR leaves Italian four-digit amounts ungrouped (1299,00 €); the site writes 1.299,00 €.
      format = new Intl.NumberFormat(lang, { style: "currency", currency: list.currency, useGrouping: "always" });
      draw();
      addEventListener("storage", function (event) { if (event.key === KEY) draw(); });
    })
    .catch(function () { part("cart-empty").hidden = true; part("cart-error").hidden = false; });
})(document);
