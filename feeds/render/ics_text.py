"""iCalendar TEXT values written exactly as the catalog has them (RFC 5545 section 3.3.11).

icalendar's own `vText` first rewrites a literal backslash-N into a line break, so a
title such as "C:\\News" would reach calendars as "C:" + newline + "ews". `escape_text`
escapes backslash, semicolon, comma and line breaks and nothing else; every line
break becomes the two characters `\\n`, so no text can start a property or component
of its own. Folding is `ics_lines.fold`'s, for every line we write.
"""

from __future__ import annotations

import re

# Control characters other than tab are not allowed in TEXT; the Unicode line and
# paragraph separators are not iCalendar line breaks but some parsers split lines on
# them (Python's str.splitlines does). Both become plain spaces.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]")


def escape_text(text: str) -> str:
    """The TEXT value for `text`: \\r\\n, \\r and \\n become \\n; \\ ; , are escaped."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    # Backslashes first, so that none of those added after is doubled. (Four replaces
    # instead of str.translate with a mapping, which looks each character up in a dict:
    # ~8 us a value, a third of the iCalendar renderer's time at 10k.)
    escaped = _NOT_TEXT.sub(" ", normalised).replace("\\", "\\\\")
    return escaped.replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
