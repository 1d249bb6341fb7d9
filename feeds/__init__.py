"""feeds: one YAML catalog published as Atom/RSS/JSON feeds, iCalendar, pages and a widget."""

__version__ = "0.1.0"
