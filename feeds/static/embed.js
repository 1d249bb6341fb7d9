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

  // Dates as the pages write them (feeds/render/pages_dates.py), so that the widget and
  // the site say a date the same way. In `en`, the pages' own order: "Thu 14 March 2019",
  // "Tue 21 – Wed 22 May 2019", "Wed 10 April 2024, 09:30 – 17:00 (Europe/Brussels,
  // UTC+02:00)", with Intl's names. In any other language, Intl.DateTimeFormat's own
  // patterns from the same CLDR data as the pages': "jeu. 14 mars 2019", a range by
  // formatRange, the zone by its long name. Times are the wall-clock times the feed
  // writes (RFC 3339, in the event's zone).
  var STAMP = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

  function dayOf(text, lang) {
    var parts = STAMP.exec(String(text));
    if (!parts) return null;
    var names = {};
    new Intl.DateTimeFormat(lang, { timeZone: "UTC", weekday: "short", day: "numeric",
      month: "long", year: "numeric" })
      .formatToParts(new Date(Date.UTC(+parts[1], +parts[2] - 1, +parts[3])))
      .forEach(function (part) { names[part.type] = part.value; });
    return {
      key: parts[1] + parts[2] + parts[3], month: parts[1] + parts[2], year: parts[1],
      weekday: names.weekday, day: names.day, monthName: names.month, yearName: names.year,
      clock: parts[4] ? parts[4] + ":" + parts[5] : null,
      offset: parts[6] || null,
      stamp: String(text)
    };
  }

  var DAY = { timeZone: "UTC", weekday: "short", day: "numeric", month: "long", year: "numeric" };

  function classic(lang) { return !lang || lang === "en"; }

  function utcDate(d) { return new Date(Date.UTC(+d.key.slice(0, 4), +d.key.slice(4, 6) - 1, +d.key.slice(6, 8))); }

  function dayText(d, lang) {
    if (!classic(lang)) return new Intl.DateTimeFormat(lang, DAY).format(utcDate(d));
    return d.weekday + " " + d.day + " " + d.monthName + " " + d.yearName;
  }

  // A span of days: in en the shared month and year said once (pages_calendar.days_text),
  // elsewhere the locale's own range format.
  function daysText(first, last, lang) {
    if (first.key === last.key) return dayText(first, lang);
    if (!classic(lang)) {
      var format = new Intl.DateTimeFormat(lang, DAY);
      if (format.formatRange) return format.formatRange(utcDate(first), utcDate(last));
      return dayText(first, lang) + " – " + dayText(last, lang);
    }
    if (first.year !== last.year) return dayText(first, lang) + " – " + dayText(last, lang);
    var head = first.weekday + " " + first.day;
    if (first.month !== last.month) head += " " + first.monthName;
    return head + " – " + dayText(last, lang);
  }

  function clockText(d, lang) {
    if (classic(lang)) return d.clock;
    var parts = d.clock.split(":");
    var moment = utcDate(d);
    moment.setUTCHours(+parts[0], +parts[1]);
    return new Intl.DateTimeFormat(lang, { timeZone: "UTC", hour: "numeric", minute: "2-digit" }).format(moment);
  }

  // The zone: in en its id and UTC offset; elsewhere its name in the language and the
  // offset as the language writes it ("heure d’été d’Europe centrale, UTC+02:00").
  function zoneLabel(d, zone, lang) {
    var offset = d.offset;
    if (classic(lang) || !zone) {
      var utc = offset === "Z" || offset === "+00:00" || offset === "-00:00" ? "UTC" : "UTC" + offset;
      return zone ? zone + ", " + utc : utc;
    }
    var instant = new Date(d.stamp);
    var name = function (style) {
      var found = new Intl.DateTimeFormat(lang, { timeZone: zone, timeZoneName: style })
        .formatToParts(instant).filter(function (part) { return part.type === "timeZoneName"; });
      return found.length ? found[0].value : "";
    };
    try {
      return name("long") + ", " + name("longOffset");
    } catch (error) {  // a zone this browser does not know: its id, as in en
      return zoneLabel(d, zone, "en");
    }
  }

  function formatDay(isoDate, lang) {
    var day = dayOf(isoDate, lang);
    return day ? dayText(day, lang) : "";
  }

  function eventText(ev, lang) {
    var first = dayOf(ev.start, lang), last = dayOf(ev.end, lang);
    if (!first) return "";
    if (!last) last = first;
    if (ev.all_day || !first.clock || !last.clock) return daysText(first, last, lang);
    var zone = typeof ev.timezone === "string" ? ev.timezone : null;
    var text = first.key === last.key
      ? dayText(first, lang) + ", " + clockText(first, lang) + " – " + clockText(last, lang)
      : dayText(first, lang) + " " + clockText(first, lang) + " – " + dayText(last, lang) + " " + clockText(last, lang);
    return text + " (" + zoneLabel(first, zone, lang) + ")";
  }

  // The catalog's language (the feed's), else the page's; the runtime's if neither is
  // one Intl knows.
  function language(feed) {
    var candidates = [feed.language, document.documentElement.lang];
    for (var i = 0; i < candidates.length; i++) {
      if (typeof candidates[i] !== "string" || !candidates[i]) continue;
      try {
        new Intl.DateTimeFormat(candidates[i]);
        return candidates[i];
      } catch (error) { /* not a language tag: try the next */ }
    }
    return undefined;
  }

  // The widget's words come with the data, in the catalog's language (the
  // `_feeds_widget` extension of feed.json and events.json, from the site's message
  // catalog). A JSON Feed without them (another publisher's) gets them from this table
  // of the languages whose translations ship, by the widget's language; English for
  // any other. `make messages` writes the table from the message catalog
  // (scripts/messages.py; tests/test_i18n.py holds it to the .po files).
  var SHIPPED_LABELS = {
    en: {"cancelled": "Cancelled", "past": "Past", "nothing": "Nothing to show yet.", "untitled": "(untitled)"},
    fr: {"cancelled": "Annulé", "past": "Passé", "nothing": "Rien à afficher pour l’instant.", "untitled": "(sans titre)"},
    de: {"cancelled": "Abgesagt", "past": "Vorbei", "nothing": "Noch nichts anzuzeigen.", "untitled": "(ohne Titel)"},
    es: {"cancelled": "Cancelado", "past": "Pasado", "nothing": "Todavía no hay nada que mostrar.", "untitled": "(sin título)"},
    it: {"cancelled": "Annullato", "past": "Passato", "nothing": "Ancora niente da mostrare.", "untitled": "(senza titolo)"},
    nl: {"cancelled": "Geannuleerd", "past": "Voorbij", "nothing": "Nog niets te tonen.", "untitled": "(zonder titel)"},
    pl: {"cancelled": "Odwołane", "past": "Minione", "nothing": "Na razie nic do pokazania.", "untitled": "(bez tytułu)"}
  };

  function labelsOf(feed, lang) {
    var given = feed._feeds_widget && feed._feeds_widget.labels;
    var primary = typeof lang === "string" ? lang.split("-")[0].toLowerCase() : "";
    var shipped = Object.prototype.hasOwnProperty.call(SHIPPED_LABELS, primary);
    var fallback = shipped ? SHIPPED_LABELS[primary] : SHIPPED_LABELS.en;
    var labels = { english: {} };
    Object.keys(SHIPPED_LABELS.en).forEach(function (key) {
      var ours = Boolean(given) && typeof given[key] === "string";
      labels[key] = ours ? given[key] : fallback[key];
      if (!ours && !shipped) labels.english[key] = true;
    });
    return labels;
  }

  // An element showing label `key`. An English fallback, in a widget whose language
  // (the feed's) may be another, says so, for screen readers.
  function labelEl(name, className, labels, key) {
    var node = el(name, className, labels[key]);
    if (labels.english[key]) node.lang = "en";
    return node;
  }

  function isPast(ev, today) {
    if (ev.rrule && !/(^|;)\s*(COUNT|UNTIL)=/i.test(ev.rrule)) return false;
    // a series that ends: past once its last occurrence is (the feed says when)
    if (ev.rrule && typeof ev.last_day === "string") return ev.last_day < today;
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
      // Until the data (and its words) arrive, the element's own content shows: the
      // embedding page's link, in that page's language.
      this._box.removeAttribute("lang");  // the page's own content, in the page's language
      this._box.replaceChildren(document.createElement("slot"));
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

    // No data, so no words in the site's language: the element's own content (the
    // embedding page's link) and the feed's address, which needs no translation.
    _failed(settings) {
      this.removeAttribute("aria-busy");
      this._box.removeAttribute("lang");
      var parts = [document.createElement("slot")];
      var href = settings.src;
      if (href) {
        var note = el("p", "note");
        note.appendChild(link(href, href));
        parts.push(note);
      }
      this._box.replaceChildren.apply(this._box, parts);
    }

    _render(feed, settings, url) {
      this.removeAttribute("aria-busy");
      var lang = language(feed);
      var labels = labelsOf(feed, lang);
      // The words and dates are in the feed's language, whatever the embedding page's.
      if (lang && lang === feed.language) this._box.lang = lang;
      else this._box.removeAttribute("lang");
      var home = safeUrl(feed.home_page_url, url);
      var title = el("p", "title");
      title.appendChild(home ? link(home, feed.title || home) : el("span", "", feed.title || ""));
      var list = el("ol");
      var chosen = chooseItems(feed.items, settings.kind, settings.limit);
      chosen.forEach(function (choice) {
        list.appendChild(settings.kind === "events"
          ? eventRow(choice.item, choice.past, lang, url, labels)
          : publicationRow(choice.item, lang, url, labels));
      });
      var parts = [title];
      parts.push(chosen.length ? list : labelEl("p", "note", labels, "nothing"));
      this._box.replaceChildren.apply(this._box, parts);
    }
  }

  function titleLink(item, base, labels) {
    var titled = typeof item.title === "string" && item.title;
    var text = titled ? item.title : labels.untitled;
    var title = link(safeUrl(item.url, base) || safeUrl(item.external_url, base), text);
    if (titled && typeof item.language === "string" && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(item.language)) {
      title.lang = item.language;  // an entry in its own language (JSON Feed `language`)
    } else if (!titled && labels.english.untitled) {
      title.lang = "en";
    }
    return title;
  }

  function publicationRow(item, lang, base, labels) {
    var cancelled = Boolean(item._event && item._event.status === "cancelled");
    var row = el("li", cancelled ? "cancelled-item" : "");
    row.appendChild(titleLink(item, base, labels));
    var when = typeof item.date_published === "string" ? formatDay(item.date_published.slice(0, 10), lang) : "";
    if (!when && !cancelled) return row;
    var meta = el("span", "meta");
    if (cancelled) meta.appendChild(labelEl("span", "badge cancelled", labels, "cancelled"));
    meta.appendChild(document.createTextNode(when));
    row.appendChild(meta);
    return row;
  }

  function eventRow(item, past, lang, base, labels) {
    var ev = item._event;
    var row = el("li", ev.status === "cancelled" ? "cancelled-item" : "");
    row.appendChild(titleLink(item, base, labels));
    var meta = el("span", "meta");
    if (ev.status === "cancelled") meta.appendChild(labelEl("span", "badge cancelled", labels, "cancelled"));
    if (past) meta.appendChild(labelEl("span", "badge", labels, "past"));
    var text = eventText(ev, lang);
    if (typeof ev.location === "string" && ev.location) text += (text ? " · " : "") + ev.location;
    meta.appendChild(document.createTextNode(text));
    row.appendChild(meta);
    return row;
  }

  window.customElements.define("feeds-widget", FeedsWidget);
})();
