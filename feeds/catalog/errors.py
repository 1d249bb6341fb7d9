"""What the validator reports: one `CatalogError` per problem, all of them raised at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Problems listed in one run. A flood of them means a file that is not a catalog at all
#: (a list of ten million scalars); listing them all would only exhaust memory and screen.
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class CatalogError:
    """One problem in the catalog, located by file, line and field path.

    `field` is a path like `entries[3].event.end` (0-based index), or "" for a
    problem of the text rather than of one field (YAML syntax, not UTF-8).
    `line` is 1-based; 0 means the file as a whole (missing, unreadable, too large).
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:"
        field, message = one_line(self.field), one_line(self.message)
        return f"{where} {field}: {message}" if field else f"{where} {message}"


def one_line(text: str) -> str:
    """`text` with line breaks and other unprintable characters escaped (\\n, \\u2028).

    A key or a rule part from the file can carry them; printed raw they would split one
    problem over several lines, or reorder it on the terminal (U+202E).
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class CatalogErrors(Exception):
    """Every problem of one validation run, sorted by line (then in the order found)."""

    def __init__(self, errors: Iterable[CatalogError]) -> None:
        self.errors: list[CatalogError] = sorted(errors, key=lambda error: error.line)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class Problems:
    """Collects the problems of one run so the editor sees all of them, not just the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[CatalogError] = []

    def add(self, line: int, field: str, message: str) -> None:
        """Record a problem; raises StopReading, with a closing note, past MAX_PROBLEMS."""
        if len(self.errors) >= MAX_PROBLEMS:
            self.errors.append(
                CatalogError(
                    self.file,
                    line,
                    "",
                    f"stopped reading here after {MAX_PROBLEMS} problems; fix those and run again",
                )
            )
            raise StopReading()
        self.errors.append(CatalogError(self.file, line, field, message))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise CatalogErrors(self.errors)


class StopReading(Exception):
    """Ends reading the file; the problems recorded so far say why and where."""


class Invalid(Exception):
    """Raised by a converter for a value it cannot accept.

    With a message, the caller records it at the value's line and path; without
    one, the converter has already recorded its problems (or they were reported
    earlier, e.g. an alias) and the caller only learns that there is no value.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message
