// The embed page (/embed/) is one precomputed page holding every item a query can ask
// for; this script reads the query (kind, tag, limit, theme) and shows the matching
// ones. The server has already refused invalid queries with 400; values are still
// checked here, falling back to the defaults, for hosts that do not check them.
// Without script the page shows its defaults: the latest publications.
(function () {
  "use strict";

  var KINDS = ["publications", "events"];
  var THEMES = ["light", "dark", "auto"];

  function localToday() {
    var now = new Date();
    var pad = function (n) { return String(n).padStart(2, "0"); };
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
  }

  function readQuery(main) {
    var query = new URLSearchParams(window.location.search);
    var max = Number(main.getAttribute("data-limit-max"));
    var limit = Number(query.get("limit"));
    return {
      kind: KINDS.indexOf(query.get("kind")) >= 0 ? query.get("kind") : "publications",
      theme: THEMES.indexOf(query.get("theme")) >= 0 ? query.get("theme") : "auto",
      tag: query.get("tag") || "",
      limit: Number.isInteger(limit) && limit >= 1 && limit <= max
        ? limit : Number(main.getAttribute("data-default-limit"))
    };
  }

  function hasTag(item, tag) {
    return !tag || (item.getAttribute("data-tags") || "").split(" ").indexOf(tag) >= 0;
  }

  // Events: the upcoming ones (soonest first), then past ones (latest first), marked.
  function orderEvents(items, today) {
    var upcoming = [], past = [];
    items.forEach(function (item) {
      var last = item.getAttribute("data-last-day");
      var isPast = Boolean(last) && last < today;
      var label = item.querySelector("[data-past-label]");
      if (label) label.hidden = !isPast;
      (isPast ? past : upcoming).push(item);
    });
    return upcoming.concat(past.reverse());
  }

  function show(main, settings) {
    if (settings.theme !== "auto") document.documentElement.setAttribute("data-theme", settings.theme);
    var shown = 0;
    main.querySelectorAll("section[data-kind]").forEach(function (section) {
      var active = section.getAttribute("data-kind") === settings.kind;
      section.hidden = !active;
      if (!active) return;
      var list = section.querySelector("ol");
      var items = Array.prototype.slice.call(list.children);
      if (settings.kind === "events") {
        items = orderEvents(items, localToday());
        items.forEach(function (item) { list.appendChild(item); });
      }
      items.forEach(function (item) {
        var visible = hasTag(item, settings.tag) && shown < settings.limit;
        item.hidden = !visible;
        if (visible) shown += 1;
      });
    });
    main.querySelector("[data-embed-empty]").hidden = shown > 0;
  }

  function start() {
    var main = document.querySelector("[data-embed]");
    if (main) show(main, readQuery(main));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
