"""`make messages`: the message catalog brought up to date with the code and templates.

1. `pybabel extract` (babel.cfg) writes feeds/locale/feeds.pot from the `_()` and
   `gettext()` calls of the Python code and the templates' `{% trans %}` and `_()`;
2. `pybabel update` merges it into every language's feeds.po (a new message arrives
   untranslated, a changed one fuzzy: tests/test_i18n.py fails on both in a shipped
   language until a translator has seen them);
3. English's msgstr are its msgids (English is the language the msgids are written in);
4. each feeds.po gets a fixed header: its language and CLDR's plural rule (which
   `msgfmt --check`, Poedit and Lokalize need), no dates (a run changes nothing else);
5. the widget's own table of its words in every shipped language (`SHIPPED_LABELS` in
   feeds/static/embed.js, for JSON Feeds that bring none) is written from the .po files.

The .po files are what feeds reads (feeds/i18n.py compiles them in memory): there is no
.mo file to build. Adding a language: docs/translations.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "feeds" / "locale"
TEMPLATE = LOCALE / "feeds.pot"
WIDGET = ROOT / "feeds" / "static" / "embed.js"
WIDGET_TABLE = re.compile(r"(  var SHIPPED_LABELS = \{\n).*?(\n  \};)", re.DOTALL)
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def main() -> None:
    common = ["--no-location", "--sort-output", "--omit-header", "--no-wrap"]
    keywords = ["-k", "_", "-k", "gettext", "-k", "ngettext:1,2"]
    run("extract", "-F", "babel.cfg", *common, *keywords, "-o", str(TEMPLATE), ".")
    run("update", "-D", "feeds", "-i", str(TEMPLATE), "-d", str(LOCALE), "--no-wrap",
        "--ignore-obsolete", "--omit-header")  # fmt: skip
    fill_english(LOCALE / "en" / "LC_MESSAGES" / "feeds.po")
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/feeds.po")):
        write_header(po, po.parent.parent.name)
    write_widget_words()


def run(*args: str) -> None:
    subprocess.run([*PYBABEL, *args], cwd=ROOT, check=True)


def fill_english(path: Path) -> None:
    with path.open("rb") as po:
        catalog = read_po(po, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with path.open("wb") as po:
        write_po(po, catalog, omit_header=True, sort_output=True, no_location=True, width=0)


def header(language: str) -> str:
    """The .po header: what gettext's tools need to read and check the file."""
    fields = {
        "Project-Id-Version": "feeds",
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": get_plural(language).plural_forms,
    }
    lines = "".join(f'"{name}: {value}\\n"\n' for name, value in fields.items())
    comment = f"# The pages' words in {language}: docs/translations.md\n"
    return comment + 'msgid ""\nmsgstr ""\n' + lines + "\n"


def write_header(path: Path, language: str) -> None:
    """Put `header(language)` in place of the header entry the file may start with (the
    first block, when its msgid is empty: `pybabel init` writes one with dates)."""
    blocks = path.read_text(encoding="utf-8").lstrip("\n").split("\n\n")
    if 'msgid ""\nmsgstr ""' in blocks[0]:
        blocks = blocks[1:]
    path.write_text(header(language) + "\n\n".join(blocks), encoding="utf-8")


def write_widget_words() -> None:
    """The widget's words in every shipped language, as the JSON documents send them,
    into embed.js's table (run after the .po files are written: read fresh here)."""
    sys.path.insert(0, str(ROOT))
    from feeds import i18n
    from feeds.render.jsonfeed import widget_labels

    rows = ",\n".join(
        f"    {language}: {json.dumps(widget_labels(language)['labels'], ensure_ascii=False)}"
        for language in i18n.SHIPPED
    )
    script = WIDGET.read_text(encoding="utf-8")
    updated, found = WIDGET_TABLE.subn(lambda m: m.group(1) + rows + m.group(2), script)
    if found != 1:
        sys.exit(f"{WIDGET}: no `var SHIPPED_LABELS = {{ ... }};` table to update")
    WIDGET.write_text(updated, encoding="utf-8")


if __name__ == "__main__":
    main()
