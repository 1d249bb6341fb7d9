// Small additions to the pages; every page is complete without them.
// - Events: split the dated list into "Upcoming" and "Past" by the reader's own date
//   (pages are precomputed, so the server cannot know what is past).
// - Copy buttons for feed and calendar addresses and the embed snippets (the address
//   fields of /subscribe/ are read-only inputs: their value is copied, and focusing one
//   selects it, for readers who copy by hand).
// No inline script or style anywhere: this file is loaded under script-src 'self'.
(function () {
  "use strict";

  function localToday() {
    var now = new Date();
    var pad = function (n) { return String(n).padStart(2, "0"); };
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
  }

  function splitEvents(section, today) {
    var upcoming = section.querySelector("[data-upcoming]");
    var pastPart = section.querySelector("[data-past]");
    var pastList = section.querySelector("[data-past-list]");
    if (!upcoming || !pastPart || !pastList) return;
    // An empty data-last-day is a recurrence without end: never past.
    var past = Array.prototype.filter.call(upcoming.children, function (item) {
      var last = item.getAttribute("data-last-day");
      return last && last < today;
    });
    past.reverse().forEach(function (item) { pastList.appendChild(item); });
    var heading = section.querySelector("[data-upcoming-title]");
    if (heading) heading.textContent = heading.getAttribute("data-upcoming-title");
    pastPart.hidden = pastList.children.length === 0;
    upcoming.hidden = upcoming.children.length === 0;
    var none = section.querySelector("[data-no-upcoming]");
    if (none) none.hidden = upcoming.children.length > 0;
  }

  // The messages are the page's, in its language (data attributes of #copy-status).
  function announce(which) {
    var status = document.getElementById("copy-status");
    if (status) status.textContent = status.getAttribute(which) || "";
  }

  function copiedText(source) {
    return (source instanceof HTMLInputElement ? source.value : source.textContent).trim();
  }

  function enableCopy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;  // the text stays selectable
    button.hidden = false;
    button.addEventListener("click", function () {
      if (source instanceof HTMLInputElement) source.select();
      navigator.clipboard.writeText(copiedText(source)).then(
        function () { announce("data-copied"); },
        function () { announce("data-copy-failed"); }
      );
    });
  }

  function start() {
    var today = localToday();
    document.querySelectorAll("[data-event-split]").forEach(function (section) {
      splitEvents(section, today);
    });
    document.querySelectorAll("button[data-copy]").forEach(enableCopy);
    document.querySelectorAll("input[readonly]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
