// Comments load only when needed. Isso (first-party) loads when the comment section comes into view; the
// comments rendered at build time stay until Isso's own thread has been rendered, and stay for good if its
// script fails, Isso does not answer, or Isso renders no comment at all while the page has some (a record kept
// on an apparent mass loss): a short note then says live comments are unavailable. The built comments are
// comment-N; a link to Isso's #isso-N scrolls to comment-N until Isso's own isso-N exists. A third-party
// provider (giscus, Disqus) loads nothing until the visitor presses "Show the comments"; the choice may be
// remembered in localStorage, never a cookie.
(function () {
  "use strict";
  var section = document.getElementById("comments");
  if (!section) { return; }
  var provider = section.getAttribute("data-provider");

  var ISSO_WAIT_MS = 15000;  // after this the note says live comments are unavailable (Isso may still arrive)

  function addScript(src, attributes, onError) {
    var script = document.createElement("script");
    script.src = src;
    script.async = true;
    Object.keys(attributes || {}).forEach(function (name) { script.setAttribute(name, attributes[name]); });
    if (onError) { script.addEventListener("error", onError); }
    document.body.appendChild(script);
  }

  // Isso writes its heading ("2 Comments", "No comments yet") only once it has fetched and inserted the thread.
  function issoRendered(thread) {
    var heading = thread.querySelector(".isso-thread-heading");
    return heading !== null && heading.textContent.trim() !== "";
  }

  // A permalink from Isso (its e-mails, a shared link) names isso-N: before Isso has rendered, that is the built
  // comment-N. Scrolling to it also brings the section into view, which loads Isso.
  function followIssoPermalink() {
    var match = /^#isso-(\d+)$/.exec(window.location.hash);
    if (!match || document.getElementById("isso-" + match[1])) { return; }
    var built = document.getElementById("comment-" + match[1]);
    if (built) { built.scrollIntoView(); }
  }

  function loadIsso() {
    var base = section.getAttribute("data-isso-url");
    var thread = document.getElementById("isso-thread");
    var published = section.querySelector(".static-comments");
    var note = section.querySelector("[data-comments-offline]");
    var settled = false;
    var observer = null;
    var timer = null;

    function showNote() {
      if (note) { note.hidden = false; }
    }
    function stop() {
      settled = true;
      if (observer) { observer.disconnect(); }
      window.clearTimeout(timer);
    }
    function takeOver() {
      if (settled || !issoRendered(thread)) { return; }
      stop();
      // Isso writes its comments into #isso-root before its heading: by now they are all in place (the
      // postbox's preview is an .isso-comment too, outside #isso-root).
      if (thread.querySelector("#isso-root .isso-comment") === null && published.querySelector(".comment") !== null) {
        // Isso shows none of the published comments: keep them, without Isso's "No comments yet".
        thread.querySelector(".isso-thread-heading").hidden = true;
        showNote();
        return;
      }
      published.remove();
      if (note) { note.hidden = true; }
    }

    if (thread && published && "MutationObserver" in window) {
      observer = new MutationObserver(takeOver);
      observer.observe(thread, { childList: true, subtree: true, characterData: true });
    }
    timer = window.setTimeout(showNote, ISSO_WAIT_MS);
    addScript(base + "js/embed.min.js", {
      "data-isso": base,
      "data-isso-lang": section.getAttribute("data-isso-lang"),
      "data-isso-css": "true",
      "data-isso-vote": "false",
      "data-isso-reply-notifications-default-enabled": "false"
    }, function () {
      // The script did not load (404, Isso down): the published comments stay, with the note.
      stop();
      showNote();
    });
  }

  function whenVisible(callback) {
    if (!("IntersectionObserver" in window)) { callback(); return; }
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        observer.disconnect();
        callback();
      }
    }, { rootMargin: "200px" });
    observer.observe(section);
  }

  function loadThirdParty() {
    var consent = section.querySelector(".consent");
    if (consent) { consent.hidden = true; }
    if (provider === "giscus") {
      var box = section.querySelector("[data-giscus]");
      var attributes = {"data-reactions-enabled": "0", "data-emit-metadata": "0", "data-theme": "preferred_color_scheme",
                        "crossorigin": "anonymous"};
      Array.prototype.forEach.call(box.attributes, function (attribute) {
        if (attribute.name.indexOf("data-") === 0 && attribute.name !== "data-giscus") {
          attributes[attribute.name] = attribute.value;
        }
      });
      addScript("https://giscus.app/client.js", attributes);
    } else if (provider === "disqus") {
      var thread = document.getElementById("disqus_thread");
      window.disqus_config = function () {
        this.page.url = thread.getAttribute("data-disqus-url");
        this.page.identifier = thread.getAttribute("data-disqus-identifier");
      };
      addScript("https://" + thread.getAttribute("data-disqus-shortname") + ".disqus.com/embed.js", {});
    }
  }

  if (provider === "isso") {
    followIssoPermalink();
    whenVisible(loadIsso);
    return;
  }
  var key = "vetrina-consent-" + provider;
  var remembered = false;
  try { remembered = window.localStorage.getItem(key) === "yes"; } catch (error) { remembered = false; }
  if (remembered) { loadThirdParty(); return; }
  var show = section.querySelector("[data-consent-show]");
  if (show) {
    show.addEventListener("click", function () {
      var remember = section.querySelector("[data-consent-remember]");
      if (remember && remember.checked) {
        try { window.localStorage.setItem(key, "yes"); } catch (error) { /* private mode: ask again next time */ }
      }
      loadThirdParty();
    });
  }
})();
