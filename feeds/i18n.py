"""The words readers see, in the catalog's language: one gettext message catalog.

Every string of the pages, the widget, the embed page, the feed stylesheet and the dev
banner is a message of `feeds/locale/<lang>/LC_MESSAGES/feeds.po`, extracted with
Babel (`make messages`, see docs/translations.md). The `.po` files are read here at
first use and compiled in memory (Babel's `write_mo`), once per process and language:
there is no `.mo` file to build at install time or to forget to rebuild, so a fresh
clone and `pip install -e .` have every translation, and editing a `.po` takes effect at
the next start. Fuzzy messages are left out (`write_mo` skips them), as `msgfmt` would.

A language with no shipped translation falls back to English (the msgids); its dates
are still written in its own CLDR locale (`feeds.render.pages_dates`).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "feeds"
# The languages whose translations ship with feeds (tests/test_i18n.py holds each of
# them complete: no message missing, none fuzzy).
SHIPPED = ("en", "fr", "de", "es", "it", "nl", "pl")


def locale_of(tag: str) -> Locale | None:
    """The CLDR locale of a BCP 47 tag (`fr`, `pt-BR`, `sr-Latn-RS`), None if CLDR has
    none (`xx`)."""
    try:
        return Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        return None


def shipped_language(tag: str) -> str | None:
    """The shipped translation a tag is written in (`fr-CA` -> `fr`), None if none."""
    locale = locale_of(tag)
    if locale is None:
        return None
    for candidate in (str(locale), locale.language):
        if candidate in SHIPPED:
            return candidate
    return None


@cache
def translations(tag: str) -> gettext.NullTranslations:
    """The message catalog for a catalog's `language` (English msgids when none ships)."""
    shipped = shipped_language(tag)
    if shipped is None:
        return gettext.NullTranslations()
    return _compiled(shipped)


@cache
def _compiled(language: str) -> gettext.GNUTranslations:
    path = resources.files("feeds").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    mo = io.BytesIO()
    write_mo(mo, catalog)  # fuzzy messages are left out, as msgfmt does
    mo.seek(0)
    return gettext.GNUTranslations(mo)
