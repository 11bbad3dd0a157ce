// The search page: the form's query, filters and order run a Pagefind search (Pagefind's worker, loaded on this
// page only, when there is something to search), kept in the URL so a result list can be linked.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !window.URLSearchParams || !window.Promise) return;
  var query = document.getElementById("search-query");
  var sortSelect = document.getElementById("search-sort");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var pageSize = parseInt(form.getAttribute("data-page-size"), 10) || 12;
  var SORTS = { "price-asc": { price: "asc" }, "price-desc": { price: "desc" }, newest: { date: "desc" } };
  var engine = null;
  var found = [];
  var shown = 0;
  var turn = 0;
  var timer = 0;

  function say(name, count) {
    var text = form.getAttribute("data-" + name) || "";
    status.textContent = count === undefined ? text : text.replace("{count}", String(count));
  }

  // Pagefind's own web worker, spoken to directly: its messages are {id, method, args} -> {id, result | error},
  // the protocol pagefind.js uses. The page then loads none of pagefind.js's own copy of the search engine
  // (12.8 kB gzipped), and the search still runs off the page's thread.
  function viaWorker(base, baseUrl) {
    var worker = new Worker(base + "pagefind-worker.js");
    var waiting = {};
    var next = 0;
    var held = [];
    function call(method, args) {
      return new Promise(function (resolve, reject) {
        var id = "vetrina_" + next++;
        waiting[id] = [resolve, reject];
        worker.postMessage({ id: id, method: method, args: args });
      });
    }
    worker.onmessage = function (event) {
      var answer = event.data || {};
      var pending = waiting[answer.id];
      if (!pending) return;
      delete waiting[answer.id];
      if (answer.error) pending[1](new Error(answer.error)); else pending[0](answer.result);
    };
    worker.onerror = function () {
      worker.terminate();
      Object.keys(waiting).forEach(function (id) { waiting[id][1](new Error("search worker failed")); });
      waiting = {};
    };
    var api = {
      search: function (term, options) {
        held.splice(0).forEach(function (id) { call("releaseData", [id]); });
        return call("search", [term, options]).then(function (search) {
          (search && search.results || []).forEach(function (hit) {
            var id = hit.data;
            held.push(id);
            hit.data = function () { return call("getData", [id]); };
          });
          return search;
        });
      }
    };
    var started = call("init", [{ basePath: base }]).then(function () {
      return call("options", [{ baseUrl: baseUrl }]);
    }).then(function () { return api; });
    var late = new Promise(function (resolve, reject) {
      setTimeout(function () { reject(new Error("search worker silent")); }, 5000);
    });
    return Promise.race([started, late]).catch(function (error) {
      worker.terminate();
      throw error;
    });
  }

  // Without web workers (or if the worker fails to start), pagefind.js searches on the page's thread.
  function onThread(index, baseUrl) {
    return import(index).then(function (pagefind) {
      return pagefind.options({ baseUrl: baseUrl }).then(function () {
        pagefind.init();
        return pagefind;
      });
    });
  }

  function load() {
    if (!engine) {
      var index = form.getAttribute("data-index");
      var baseUrl = form.getAttribute("data-base") || "/";
      var base = index.replace(/[^\/]*$/, "");
      engine = (window.Worker ? Promise.resolve().then(function () { return viaWorker(base, baseUrl); })
        : Promise.reject(new Error("no workers"))).catch(function () { return onThread(index, baseUrl); });
      engine.catch(function () { engine = null; });
    }
    return engine;
  }

  function state() {
    var filters = {};
    var boxes = form.querySelectorAll("input[type=checkbox]:checked");
    for (var i = 0; i < boxes.length; i++) {
      (filters[boxes[i].name] = filters[boxes[i].name] || []).push(boxes[i].value);
    }
    return { q: query.value.trim(), filters: filters, sort: sortSelect.value };
  }

  function countFilters() {
    var count = document.getElementById("search-filter-count");
    var chosen = form.querySelectorAll("input[type=checkbox]:checked").length;
    if (count) count.textContent = chosen ? " (" + chosen + ")" : "";
  }

  function keepInUrl(current) {
    var params = new URLSearchParams();
    if (current.q) params.append("q", current.q);
    Object.keys(current.filters).forEach(function (name) {
      current.filters[name].forEach(function (value) { params.append(name, value); });
    });
    if (current.sort) params.append("sort", current.sort);
    var search = params.toString();
    history.replaceState(null, "", location.pathname + (search ? "?" + search : ""));
  }

  function fromUrl() {
    var params = new URLSearchParams(location.search);
    query.value = params.get("q") || "";
    var boxes = form.querySelectorAll("input[type=checkbox]");
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].checked = params.getAll(boxes[i].name).indexOf(boxes[i].value) !== -1;
    }
    var sort = params.get("sort") || "";
    sortSelect.value = SORTS[sort] ? sort : "";
  }

  function element(name, className, text) {
    var node = document.createElement(name);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function dateText(iso) {
    var parts = String(iso).split("-");
    if (parts.length !== 3 || !window.Intl) return iso;
    var day = new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2]));
    return new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "long", timeZone: "UTC" }).format(day);
  }

  function result(data) {
    var meta = data.meta || {};
    var item = element("li", "search-result");
    if (meta.image) {
      var image = element("img", "search-thumb");
      image.src = meta.image;
      image.alt = meta.image_alt || "";
      image.width = 96;
      image.height = 96;
      image.loading = "lazy";
      image.decoding = "async";
      item.appendChild(image);
    }
    var body = element("div", "search-body");
    var heading = element("h3", "search-title");
    var link = element("a", "", meta.title || data.url);
    link.href = data.url;
    heading.appendChild(link);
    body.appendChild(heading);
    var facts = element("p", "search-facts");
    facts.appendChild(element("span", "search-kind", meta.kind || ""));
    if (meta.price) facts.appendChild(element("span", "search-price", meta.price));
    if (meta.availability) {
      facts.appendChild(element("span", "search-availability availability-" + (meta.availability_code || ""), meta.availability));
    }
    if (meta.date) facts.appendChild(element("span", "search-date", dateText(meta.date)));
    body.appendChild(facts);
    if (meta.summary) body.appendChild(element("p", "search-summary", meta.summary));
    item.appendChild(body);
    return item;
  }

  function showMore() {
    var mine = turn;
    var next = found.slice(shown, shown + pageSize);
    shown += next.length;
    more.hidden = shown >= found.length;
    return Promise.all(next.map(function (hit) { return hit.data(); })).then(function (datas) {
      if (mine !== turn) return;
      datas.forEach(function (data) { list.appendChild(result(data)); });
    });
  }

  function run() {
    var current = state();
    keepInUrl(current);
    countFilters();
    var mine = ++turn;
    var filtered = Object.keys(current.filters).length > 0;
    if (!current.q && !filtered) {
      found = [];
      list.textContent = "";
      more.hidden = true;
      say("prompt");
      return Promise.resolve();
    }
    say("busy");
    return load().then(function (pagefind) {
      var options = { filters: {} };
      Object.keys(current.filters).forEach(function (name) { options.filters[name] = { any: current.filters[name] }; });
      if (SORTS[current.sort]) options.sort = SORTS[current.sort];
      return pagefind.search(current.q || null, options);
    }).then(function (search) {
      if (mine !== turn || !search) return;
      found = search.results || [];
      shown = 0;
      list.textContent = "";
      if (!found.length) say("none");
      else if (found.length === 1) say("one");
      else say("many", found.length);
      return showMore();
    }).catch(function () {
      if (mine === turn) say("failed");
    });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    run();
  });
  query.addEventListener("input", soon);
  query.addEventListener("focus", function () { load().catch(function () {}); }, { once: true });
  form.addEventListener("change", function (event) {
    if (event.target !== query) { clearTimeout(timer); run(); }
  });
  more.addEventListener("click", function () { showMore(); });
  fromUrl();
  // Open beside the results on a wide screen; on a phone it stays folded above them (opened, it would push the
  // results a screen down), its summary counting the filters chosen.
  var filters = document.getElementById("search-filters");
  if (filters && window.matchMedia && window.matchMedia("(min-width: 48rem)").matches) filters.open = true;
  if (location.search) run(); else say("prompt");
})();
