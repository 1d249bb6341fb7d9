"""The pages speak the catalog's language: every word a reader sees comes from the one
message catalog (feeds/locale/*/LC_MESSAGES/feeds.po), every date from CLDR (Babel).

The bundled catalog is built in each shipped language and its pages are read back:
no English message is left where the language has its own words for it, the dates are
the language's, and every page says its language. The entry pages' fast path must
still write what entry.html writes, in every language.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from conftest import skip_unless_ci
from feedcheck import (
    assert_valid_atom,
    assert_valid_json_feed,
    assert_valid_rss,
    feed_validator_warnings,
    parse_xml,
)
from test_pages_speed_entry import assert_both_ways_alike
from test_pages_support import ROOT, rich_catalog

from feeds import i18n
from feeds.catalog import parse_catalog
from feeds.model import Catalog
from feeds.render.jsonfeed import widget_labels
from feeds.render.pages_dates import dates_for
from feeds.serve.responder import banner_html
from feeds.serve.web import create_app, runtime
from feeds.site import Site, build_site

LOCALE = ROOT / "feeds" / "locale"
TRANSLATED = [language for language in i18n.SHIPPED if language != "en"]
EVENT_PAGE = "/entries/urban-academy-integration-migrants-refugees-antwerp/"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
UI_PAGES = ("/", EVENT_PAGE, "/subscribe/", "/embed/", "/events/", "/404.html")


def po_messages(language: str) -> dict[str, str | tuple[str, ...]]:
    """msgid (the singular of a plural) -> msgstr of a shipped language's .po file."""
    with (LOCALE / language / "LC_MESSAGES" / "feeds.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    found: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if message.id:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            assert "fuzzy" not in message.flags, f"{language}: fuzzy: {key!r}"
            found[key] = message.string
    return found


@cache
def catalog_in(language: str) -> Catalog:
    text = (ROOT / "entries.yaml").read_bytes()
    assert b"\n  language: en\n" in text
    return parse_catalog(
        text.replace(b"\n  language: en\n", f"\n  language: {language}\n".encode())
    )


@cache
def site_in(language: str) -> Site:
    return build_site(catalog_in(language))


# --- the message catalog --------------------------------------------------------------


@pytest.mark.parametrize("language", i18n.SHIPPED)
def test_every_shipped_language_translates_every_message(language: str) -> None:
    """No message missing, empty or fuzzy, and none the code no longer has."""
    template = po_messages("en")
    messages = po_messages(language)
    assert set(messages) == set(template)
    untranslated = [msgid for msgid, text in messages.items() if not text or not all(text)]
    assert untranslated == []


# Messages a language writes as English does: the same word, or a name. Any other
# translation equal to its message is English left untranslated (a copied msgid), which
# the checks of the pages below cannot tell from a word the same in both languages.
SAME_AS_ENGLISH = {
    "fr": {"Publications", "Site"},
    "de": {"Details", "Feed", "Status"},
    "es": {"Google Calendar"},
    "it": {"Feed", "Google Calendar"},
    "nl": {"Details", "Feed", "Site", "Status"},
    "pl": {"Status"},
}


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_equal_to_its_message_is_a_word_the_same_in_both(language: str) -> None:
    messages = po_messages(language)
    same = {msgid for msgid, text in messages.items() if text == msgid}
    assert same == SAME_AS_ENGLISH[language]


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder_and_tag(language: str) -> None:
    """A translation that drops `%(tag)s` or a `<a href=...>` would break the page."""
    marks = re.compile(r"%\(\w+\)s|</?[a-z]+")
    for msgid, text in po_messages(language).items():
        forms = text if isinstance(text, tuple) else (text,)
        for form in forms:
            assert sorted(marks.findall(form)) == sorted(marks.findall(msgid)), (msgid, form)


@pytest.mark.parametrize("language", i18n.SHIPPED)
def test_every_po_file_passes_gettexts_own_check(language: str, tmp_path: Path) -> None:
    """`msgfmt --check` (GNU gettext, what Poedit and Lokalize run): a header naming the
    language and its plural rule, which must be CLDR's (Babel's), and the number of
    plural forms each message has."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        skip_unless_ci("msgfmt (the gettext package) is not installed")
    po = LOCALE / language / "LC_MESSAGES" / "feeds.po"
    checked = subprocess.run(
        [str(msgfmt), "--check", "-o", str(tmp_path / "feeds.mo"), str(po)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    with po.open("rb") as file:
        catalog = read_po(file)  # no locale given: what the file's header says
    assert catalog.locale_identifier == language
    assert catalog.plural_forms == get_plural(language).plural_forms


def test_the_message_catalog_holds_every_string_of_the_code_and_templates(
    tmp_path: Path,
) -> None:
    """`make messages` has been run: a fresh extraction finds the same messages."""
    fresh = tmp_path / "feeds.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with fresh.open("rb") as po:
        extracted = {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(po) if m.id}
    assert extracted == set(po_messages("en"))


# --- pages in each language -----------------------------------------------------------


def texts_of(body: str) -> list[str]:
    """What a reader sees or hears of a page: its text between tags, and the attributes
    read out (aria-label, title, alt) or shown by script (data-* labels)."""
    body = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", body, flags=re.S)
    found = re.findall(r'(?:aria-label|title|alt|data-[a-z-]+)="([^"]*)"', body)
    found += re.split(r"<[^>]+>", body)
    return [" ".join(html.unescape(text).split()) for text in found]


def english_left(language: str, texts: list[str]) -> list[str]:
    """The English messages found in `texts` that the language translates otherwise
    (a message the same in both, "Publications" in French, is not English left over).
    A short message counts when it is a whole text; a long one anywhere in a text."""
    left = []
    for msgid, text in po_messages(language).items():
        if text == msgid or (isinstance(text, tuple) and msgid in text):
            continue
        kept = " ".join(text) if isinstance(text, tuple) else text
        # the words of a message between its placeholders and tags, but for those its
        # translation keeps (names: "Google Calendar", code: "--feeds-accent")
        for piece in re.split(r"%\(\w+\)s|<[^>]+>", msgid):
            piece = " ".join(piece.split()).strip(" .,:;")
            if len(piece) < 4 or piece in kept or (" " not in piece and piece != msgid):
                continue  # a lone word of a sentence ("Follow") may be a name in it
            if any(t.strip(" .,:;") == piece or (len(piece) >= 20 and piece in t) for t in texts):
                left.append(piece)
    return left


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_english_ui_string_is_left_on_the_pages(language: str) -> None:
    site = site_in(language)
    for path in UI_PAGES:
        assert english_left(language, texts_of(site[path].body.decode())) == [], path


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_widget_gets_its_labels_in_the_language(language: str) -> None:
    site = site_in(language)
    for path in ("/feed.json", "/events.json"):
        labels = json.loads(site[path].body)["_feeds_widget"]["labels"]
        assert english_left(language, list(labels.values())) == [], path
        assert set(labels.values()) <= {
            text for text in po_messages(language).values() if isinstance(text, str)
        }


@pytest.mark.parametrize("language", i18n.SHIPPED)
def test_the_embed_page_and_the_widget_say_nothing_to_show_in_the_same_words(
    language: str,
) -> None:
    site = site_in(language)
    empty = re.search(
        r"<p class=\"empty\" data-embed-empty hidden>([^<]*)</p>", site["/embed/"].body.decode()
    )
    assert empty is not None
    for path in ("/feed.json", "/events.json"):
        labels = json.loads(site[path].body)["_feeds_widget"]["labels"]
        assert html.unescape(empty.group(1)) == labels["nothing"], path


def test_the_widget_s_own_table_of_words_is_the_message_catalog_s() -> None:
    """embed.js carries the widget's words of every shipped language, for a JSON Feed
    that brings none: they must be the .po files' (`make messages` writes the table)."""
    script = (ROOT / "feeds" / "static" / "embed.js").read_text(encoding="utf-8")
    block = re.search(r"var SHIPPED_LABELS = \{\n(.*?)\n  \};", script, re.DOTALL)
    assert block is not None
    table = {
        line.split(":", 1)[0].strip(): json.loads(line.split(":", 1)[1].strip().rstrip(","))
        for line in block.group(1).splitlines()
    }
    assert table == {language: widget_labels(language)["labels"] for language in i18n.SHIPPED}


@pytest.mark.parametrize("language", TRANSLATED)
def test_titles_the_widget_and_calendar_apps_show_are_in_the_language(language: str) -> None:
    site, messages = site_in(language), po_messages(language)
    title = catalog_in(language).feed.title
    events = json.loads(site["/events.json"].body)["title"]
    assert events == str(messages["%(title)s: events"]) % {"title": title}
    tagged = json.loads(site["/tags/culture/events.json"].body)["title"]
    assert tagged == str(messages["%(title)s: events tagged %(tag)s"]) % {
        "title": title,
        "tag": "culture",
    }
    calendar = site["/tags/culture/events.ics"].body.decode().replace("\r\n ", "")
    about = str(messages["%(about)s (events tagged %(tag)s)"]).split("%(tag)s")[0]
    assert about.replace("%(about)s", "").strip() in calendar


def test_the_english_pages_are_the_messages_themselves() -> None:
    """The check above can see English: on the English site it finds the messages."""
    texts = texts_of(site_in("en")["/"].body.decode())
    assert "Latest publications" in english_left("fr", texts)


@pytest.mark.parametrize("language", i18n.SHIPPED)
def test_every_page_says_its_language(language: str) -> None:
    site = site_in(language)
    for path in site:
        body = site[path].body
        if site[path].content_type.startswith("text/html"):
            assert f'<html lang="{language}"'.encode() in body, path
    assert f'xml:lang="{language}"'.encode() in site["/feed.atom"].body
    assert f'<html lang="{language}">'.encode() in site["/feed.xsl"].body


@pytest.mark.parametrize(
    ("language", "day", "month", "monday"),
    [
        ("fr", "jeu. 14 mars 2019", "mars 2019", "lun."),
        ("de", "Do., 14. März 2019", "März 2019", "Mo"),
        ("es", "jue, 14 de marzo de 2019", "marzo de 2019", "lun"),
        ("it", "gio 14 marzo 2019", "marzo 2019", "lun"),
        ("nl", "do 14 maart 2019", "maart 2019", "ma"),
        ("pl", "czw., 14 marca 2019", "marzec 2019", "pon."),
        ("en", "Thu 14 March 2019", "March 2019", "Mon"),
    ],
)
def test_dates_are_written_in_the_language(
    language: str, day: str, month: str, monday: str
) -> None:
    site = site_in(language)
    home = html.unescape(site["/"].body.decode())
    assert day in home  # Bologna's case study, published 2019-03-14
    events = html.unescape(site["/events/"].body.decode())
    assert f"<h3>{month}</h3>" in events  # the month grid's March 2019
    first_column = re.search(
        r"<thead>\s*<tr><th scope=\"col\"><abbr title=\"[^\"]+\">([^<]+)<", events
    )
    assert first_column is not None and first_column.group(1) == monday


def test_the_week_starts_on_the_locales_first_day() -> None:
    """en-US weeks start on Sunday, pt-BR's too; the grid's first column follows."""
    for language in ("en-US", "pt-BR"):
        dates = dates_for(language)
        assert dates.first_weekday == 6
        assert dates.weekdays()[0][0] in ("Sunday", "domingo")
    events = build_site(catalog_in("en-US"))["/events/"].body.decode()
    assert '<th scope="col"><abbr title="Sunday">Sun</abbr></th>' in events.split("<tr>")[1]


def test_time_zones_are_named_as_the_locale_names_them() -> None:
    catalog = rich_catalog()
    event = next(e.event for e in catalog.entries if e.event and e.event.timezone)
    assert event is not None and event.timezone == "Europe/Brussels"
    assert dates_for("fr").when(event) == (
        "mer. 10 avril 2024, 09:30 – 17:00 (heure d’été d’Europe centrale, UTC+02:00)"
    )
    assert dates_for("de").when(event) == (
        "Mi., 10. April 2024, 09:30 – 17:00 (Mitteleuropäische Sommerzeit, GMT+02:00)"
    )
    # English keeps the pages' form: the zone's id and its offset
    assert dates_for("en").when(event) == (
        "Wed 10 April 2024, 09:30 – 17:00 (Europe/Brussels, UTC+02:00)"
    )


def test_a_span_of_days_is_the_locales_interval() -> None:
    dates = dates_for("fr")
    assert (
        dates.days(date(2019, 5, 21), date(2019, 5, 22)) == "mar. 21\u2009–\u2009mer. 22 mai 2019"
    )  # thin spaces, as CLDR


@pytest.mark.parametrize("language", [*TRANSLATED, "en-GB"])
def test_a_span_of_days_names_its_month_as_a_single_day_does(language: str) -> None:
    """CLDR has no full-month interval for most languages; the nearest (abbreviated) one
    is widened, so "24 – 26 avril" stands beside "24 avril", not "24 – 26 avr."."""
    dates = dates_for(language)
    april = Locale.parse(language.replace("-", "_")).months["format"]["wide"][4]
    assert april in dates.day(date(2019, 4, 24))
    for last in (date(2019, 4, 26), date(2019, 5, 2)):
        span = dates.days(date(2019, 4, 24), last)
        assert april in span and span.count("2019") == 1, span
    across_years = dates.days(date(2019, 12, 30), date(2020, 1, 2))
    assert Locale.parse(language.replace("-", "_")).months["format"]["wide"][12] in across_years


@pytest.mark.parametrize("language", ["fr", "de", "pl"])
def test_the_fast_entry_pages_are_what_the_template_writes_in_every_language(
    language: str,
) -> None:
    assert_both_ways_alike(catalog_in(language))
    rich = rich_catalog()
    assert_both_ways_alike(replace(rich, feed=replace(rich.feed, language=language)))


def test_a_language_without_translation_gets_english_words_and_its_own_dates() -> None:
    site = build_site(catalog_in("pt-BR"))
    home = html.unescape(site["/"].body.decode())
    assert '<html lang="pt-BR">' in home
    assert "Latest publications" in home
    assert "qui., 14 de março de 2019" in home


def test_the_dev_banner_speaks_the_catalogs_language() -> None:
    problems = ("entries.yaml:3: feed.title: required",)
    assert "Le catalogue a 1 problème" in banner_html(problems, "fr").decode()
    polish = banner_html(problems * 3, "pl").decode()
    assert "Katalog ma 3 problemy" in polish
    assert "Popraw plik" in polish
    assert "The catalog has 2 problems" in banner_html(problems * 2).decode()


def test_the_dev_server_s_banner_is_in_the_catalog_s_language(tmp_path: Path) -> None:
    """Through the app `feeds serve` makes: the banner takes the served catalog's language."""
    catalog = tmp_path / "entries.yaml"
    good = (
        (ROOT / "entries.yaml").read_text("utf-8").replace("  language: en\n", "  language: fr\n")
    )
    catalog.write_text(good, "utf-8")
    config = {"DEV_BANNER": True, "RELOAD": False, "WEBSUB": False, "RELOAD_SETTLE": False}
    app = create_app(catalog, config)
    catalog.write_text(good.replace("  language: fr\n", "  language: fr\n  colour: red\n"), "utf-8")
    runtime(app).watcher.check_now()
    page = html.unescape(app.test_client().get("/").get_data(as_text=True))
    assert '<html lang="fr">' in page
    assert "Le catalogue a 1 problème" in page and "The catalog has" not in page


# --- an entry in its own language -----------------------------------------------------

FRENCH_ENTRY = "study-visit-roma-housing-toulouse"


def with_a_french_entry() -> Catalog:
    """The bundled (English) catalog with Toulouse's study visit written in French."""
    text = (ROOT / "entries.yaml").read_text("utf-8")
    marker = f"  - id: {FRENCH_ENTRY}\n"
    assert marker in text
    return parse_catalog(text.replace(marker, f"{marker}    language: fr\n").encode())


def test_an_entry_in_its_own_language_says_so_on_its_page_and_in_the_feeds() -> None:
    catalog = with_a_french_entry()
    site = build_site(catalog)
    page = site[f"/entries/{FRENCH_ENTRY}/"].body.decode()
    assert '<html lang="en">' in page  # the words around it stay the catalog's
    assert re.search(r'<h1 lang="fr">', page)
    assert re.search(r'<section class="summary" aria-label="Summary" lang="fr">', page)
    assert f'<a href="/entries/{FRENCH_ENTRY}/" lang="fr">' in site["/events/"].body.decode()
    atom = parse_xml(site["/feed.atom"].body)
    langs = {
        entry.findtext(f"{ATOM}id", "").rsplit("/", 1)[-1]: entry.get(XML_LANG)
        for entry in atom.iter(f"{ATOM}entry")
    }
    assert langs[FRENCH_ENTRY] == "fr"
    assert {lang for entry_id, lang in langs.items() if entry_id != FRENCH_ENTRY} == {None}
    items = json.loads(site["/feed.json"].body)["items"]
    assert [item.get("language") for item in items if FRENCH_ENTRY in item["id"]] == ["fr"]
    assert_both_ways_alike(catalog)


def test_the_feeds_with_a_french_entry_stay_valid() -> None:
    site = build_site(with_a_french_entry())
    for path in ("/feed.atom", "/tags/housing/feed.atom"):
        if site.get(path) is None:
            continue
        assert_valid_atom(site[path].body, f"https://feeds.example.org{path}")
        assert feed_validator_warnings(site[path].body) == []
    assert_valid_rss(site["/feed.rss"].body, "https://feeds.example.org/feed.rss")
    assert_valid_json_feed(site["/feed.json"].body, "https://feeds.example.org/feed.json")
    assert_valid_json_feed(site["/events.json"].body, "https://feeds.example.org/events.json")


def test_an_entry_language_cldr_does_not_know_is_one_clear_error(tmp_path: Path) -> None:
    text = (ROOT / "entries.yaml").read_text("utf-8")
    marker = f"  - id: {FRENCH_ENTRY}\n"
    line = text[: text.index(marker)].count("\n") + 2
    catalog = tmp_path / "entries.yaml"
    catalog.write_text(text.replace(marker, f"{marker}    language: xx-yy\n"), "utf-8")
    result = run_feeds("check", str(catalog))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{catalog}:{line}: entries[4].language: 'xx-yy' is not a language CLDR knows: "
        "write a tag like fr, de-CH or pt-BR (a language, then a region or script if needed)"
    ]


def test_feeds_check_says_when_no_translation_ships_for_the_language(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    text = (ROOT / "entries.yaml").read_text("utf-8")
    catalog.write_text(text.replace("\n  language: en\n", "\n  language: pt-BR\n"), "utf-8")
    result = run_feeds("check", str(catalog))
    assert result.returncode == 0, result.stderr
    summary, note = result.stdout.splitlines()
    assert summary.startswith(f"{catalog}: 10 entries")
    assert note.startswith(f"{catalog}: feed.language: no translation of the pages ships for")
    assert "'pt-BR'" in note and "de, en, es, fr, it, nl, pl" in note
    french = tmp_path / "fr.yaml"
    french.write_text(text.replace("\n  language: en\n", "\n  language: fr-CA\n"), "utf-8")
    assert run_feeds("check", str(french)).stdout.count("\n") == 1  # fr-CA reads French


def run_feeds(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("feeds")), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
