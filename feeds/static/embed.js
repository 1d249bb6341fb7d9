/*
 * <feeds-widget>: the latest publications or events of a feeds site, for any page.
 *
 *   <script src="https://feeds.example.org/embed.js" defer></script>
 *   <feeds-widget src="https://feeds.example.org/feed.json" kind="events" limit="5"
 *                 tag="culture" theme="auto"><a href="https://feeds.example.org/">News</a></feeds-widget>
 *
 * src    the site's /feed.json (JSON Feed 1.1, read over CORS). kind="events" reads the
 *        events.json next to it, tag="t" the tags/t/ documents next to it.
 * kind   publications (default) | events     limit  1-50, default 5
 * theme  auto (default, follows the system) | light | dark
 * Style: --feeds-accent --feeds-bg --feeds-fg --feeds-muted --feeds-border --feeds-font
 *        --feeds-radius on the element (they pass into its shadow root).
 *
 * Safe in any page: feed text is only ever set with textContent, links are kept only
 * when they are http(s), and the styles are a constructed stylesheet
 * (adoptedStyleSheets), so a host CSP without 'unsafe-inline' holds. The light-DOM
 * content (a plain link) shows until the script runs, and the widget shows a link to
 * the feed itself if loading fails. No dependencies.
 */
(function () {
  "use strict";

  if (!window.customElements || window.customElements.get("feeds-widget")) return;

  var CSS = [
    ":host { display: block; contain: content;",
    "  --_bg: #ffffff; --_fg: #1b1f24; --_muted: #505862; --_accent: #0a53be;",
    "  --_border: #d0d7de; --_danger: #a4161a; color-scheme: light; }",
    ":host([hidden]) { display: none; }",
    ":host([theme='dark']) { --_bg: #14171b; --_fg: #e7eaee; --_muted: #aab3bd;",
    "  --_accent: #8bb8ff; --_border: #3a424c; --_danger: #ff9c96; color-scheme: dark; }",
    "@media (prefers-color-scheme: dark) { :host(:not([theme='light'])) {",
    "  --_bg: #14171b; --_fg: #e7eaee; --_muted: #aab3bd; --_accent: #8bb8ff;",
    "  --_border: #3a424c; --_danger: #ff9c96; color-scheme: dark; } }",
    ".box { background: var(--feeds-bg, var(--_bg)); color: var(--feeds-fg, var(--_fg));",
    "  font: 0.95rem/1.45 var(--feeds-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);",
    "  border: 1px solid var(--feeds-border, var(--_border)); border-radius: var(--feeds-radius, 6px);",
    "  padding: 0.75rem 1rem; }",
    ".title { margin: 0 0 0.4rem; font-size: 1.05em; font-weight: 700; }",
    "a { color: var(--feeds-accent, var(--_accent)); text-underline-offset: 0.15em; }",
    "a:focus-visible { outline: 2px solid var(--feeds-accent, var(--_accent)); outline-offset: 2px; }",
    ".title a { color: inherit; text-decoration: none; }",
    "ol { list-style: none; margin: 0; padding: 0; }",
    "li { padding: 0.45rem 0; border-top: 1px solid var(--feeds-border, var(--_border)); }",
    "li a { font-weight: 600; text-decoration: none; }",
    "li a:hover { text-decoration: underline; }",
    ".meta { display: block; color: var(--feeds-muted, var(--_muted)); font-size: 0.88em; }",
    ".badge { display: inline-block; margin-right: 0.4em; padding: 0 0.35em; border: 1px solid currentColor;",
    "  border-radius: 3px; font-size: 0.78em; font-weight: 700; text-transform: uppercase; letter-spacing: 0.03em; }",
    ".cancelled { color: var(--feeds-danger, var(--_danger)); }",
    ".cancelled-item a { text-decoration: line-through; }",
    ".note { margin: 0.25rem 0 0; color: var(--feeds-muted, var(--_muted)); }"
  ].join("\n");

  var sheet = null;
  function styles() {
    if (sheet === null && "adoptedStyleSheets" in Document.prototype) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    return sheet;
  }

  function safeUrl(value, base) {
    if (typeof value !== "string" || value === "") return null;
    try {
      var url = new URL(value, base);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function el(name, className, text) {
    var node = document.createElement(name);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function link(href, text) {
    if (!href) return el("span", "", text);
    var a = el("a", "", text);
    a.href = href;
    a.target = "_top";
    return a;
  }

  function pad(n) { return String(n).padStart(2, "0"); }
  function localToday() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function formatDay(isoDate, lang) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(isoDate));
    if (!parts) return "";
    var day = new Date(Date.UTC(+parts[1], +parts[2] - 1, +parts[3]));
    return new Intl.DateTimeFormat(lang, { timeZone: "UTC", weekday: "short", day: "numeric",
      month: "short", year: "numeric" }).format(day);
  }

  function formatMoment(iso, zone, lang) {
    var moment = new Date(String(iso));
    if (isNaN(moment.getTime())) return "";
    var options = { dateStyle: "medium", timeStyle: "short" };
    try {
      return new Intl.DateTimeFormat(lang, { timeZone: zone || undefined, weekday: "short",
        day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
        timeZoneName: "short" }).format(moment);
    } catch (error) {  // an unknown zone name: show the reader's local time
      return new Intl.DateTimeFormat(lang, options).format(moment);
    }
  }

  function eventText(ev, lang) {
    if (ev.all_day) {
      var first = formatDay(ev.start, lang), last = formatDay(ev.end, lang);
      return first === last || !last ? first : first + " – " + last;
    }
    var zone = typeof ev.timezone === "string" ? ev.timezone : null;
    return formatMoment(ev.start, zone, lang);
  }

  function isPast(ev, today) {
    if (ev.rrule && !/(^|;)\s*(COUNT|UNTIL)=/i.test(ev.rrule)) return false;
    if (ev.all_day) return String(ev.end) < today;
    var end = new Date(String(ev.end));
    return !isNaN(end.getTime()) && end.getTime() < Date.now();
  }

  function chooseItems(items, kind, limit) {
    var valid = items.filter(function (item) { return item && typeof item === "object"; });
    if (kind !== "events") {
      return valid.slice(0, limit).map(function (item) { return { item: item, past: false }; });
    }
    var today = localToday();
    var events = valid.filter(function (item) { return item._event && typeof item._event === "object"; });
    var upcoming = events.filter(function (item) { return !isPast(item._event, today); });
    var past = events.filter(function (item) { return isPast(item._event, today); });
    upcoming.sort(function (a, b) { return String(a._event.start) < String(b._event.start) ? -1 : 1; });
    past.sort(function (a, b) { return String(a._event.start) < String(b._event.start) ? 1 : -1; });
    return upcoming.concat(past).slice(0, limit).map(function (item) {
      return { item: item, past: past.indexOf(item) >= 0 };
    });
  }

  class FeedsWidget extends HTMLElement {
    static get observedAttributes() { return ["src", "kind", "limit", "tag", "theme"]; }

    constructor() {
      super();
      this._root = this.attachShadow({ mode: "open" });
      var css = styles();
      if (css) this._root.adoptedStyleSheets = [css];
      this._box = el("div", "box");
      this._box.setAttribute("part", "box");
      this._root.appendChild(this._box);
      this._request = 0;
    }

    connectedCallback() { this._load(); }

    attributeChangedCallback() { if (this.isConnected) this._load(); }

    get settings() {
      var limit = parseInt(this.getAttribute("limit") || "5", 10);
      var tag = this.getAttribute("tag") || "";
      return {
        src: safeUrl(this.getAttribute("src"), document.baseURI),
        kind: this.getAttribute("kind") === "events" ? "events" : "publications",
        limit: limit >= 1 && limit <= 50 ? limit : 5,
        tag: /^[a-z0-9][a-z0-9-]{0,99}$/.test(tag) ? tag : ""
      };
    }

    _dataUrl(settings) {
      if (!settings.src) return null;
      if (settings.kind === "publications" && !settings.tag) return settings.src;
      var root = new URL(".", settings.src);
      if (settings.tag) root = new URL("tags/" + settings.tag + "/", root);
      return new URL(settings.kind === "events" ? "events.json" : "feed.json", root).href;
    }

    _load() {
      var settings = this.settings;
      var url = this._dataUrl(settings);
      var request = ++this._request;
      this._status("Loading…");
      this.setAttribute("aria-busy", "true");
      if (!url) { this._failed(settings); return; }
      var self = this;
      fetch(url, { mode: "cors", credentials: "omit", headers: { Accept: "application/feed+json, application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (feed) {
          if (request !== self._request) return;  // a newer attribute change won
          if (!feed || !Array.isArray(feed.items)) throw new Error("not a JSON Feed");
          self._render(feed, settings, url);
        })
        .catch(function () {
          if (request === self._request) self._failed(settings);
        });
    }

    _status(text) {
      this._box.replaceChildren(el("p", "note", text));
    }

    _failed(settings) {
      this.removeAttribute("aria-busy");
      var note = el("p", "note", "The latest entries could not be loaded. ");
      var href = settings.src;
      if (href) note.appendChild(link(href, "Open the feed"));
      this._box.replaceChildren(note);
    }

    _render(feed, settings, url) {
      this.removeAttribute("aria-busy");
      var lang = typeof feed.language === "string" ? feed.language : undefined;
      try { new Intl.DateTimeFormat(lang); } catch (error) { lang = undefined; }
      var home = safeUrl(feed.home_page_url, url);
      var title = el("p", "title");
      title.appendChild(home ? link(home, feed.title || home) : el("span", "", feed.title || ""));
      var list = el("ol");
      var chosen = chooseItems(feed.items, settings.kind, settings.limit);
      chosen.forEach(function (choice) {
        list.appendChild(settings.kind === "events"
          ? eventRow(choice.item, choice.past, lang, url)
          : publicationRow(choice.item, lang, url));
      });
      var parts = [title];
      parts.push(chosen.length ? list : el("p", "note", "Nothing to show yet."));
      this._box.replaceChildren.apply(this._box, parts);
    }
  }

  function titleLink(item, base) {
    var text = typeof item.title === "string" && item.title ? item.title : "(untitled)";
    return link(safeUrl(item.url, base) || safeUrl(item.external_url, base), text);
  }

  function publicationRow(item, lang, base) {
    var row = el("li");
    row.appendChild(titleLink(item, base));
    var when = typeof item.date_published === "string" ? formatDay(item.date_published.slice(0, 10), lang) : "";
    if (when) row.appendChild(el("span", "meta", when));
    return row;
  }

  function eventRow(item, past, lang, base) {
    var ev = item._event;
    var row = el("li", ev.status === "cancelled" ? "cancelled-item" : "");
    row.appendChild(titleLink(item, base));
    var meta = el("span", "meta");
    if (ev.status === "cancelled") meta.appendChild(el("span", "badge cancelled", "Cancelled"));
    if (past) meta.appendChild(el("span", "badge", "Past"));
    var text = eventText(ev, lang);
    if (typeof ev.location === "string" && ev.location) text += (text ? " · " : "") + ev.location;
    meta.appendChild(document.createTextNode(text));
    row.appendChild(meta);
    return row;
  }

  window.customElements.define("feeds-widget", FeedsWidget);
})();
