"""`--help` of `feeds serve` and `feeds build`: every option says what it does, and the
reader is sent to the documentation, never to a source file."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from feeds.cli import main

ROOT = Path(__file__).resolve().parent.parent


def help_of(command: str) -> str:
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def options_without_help(text: str) -> list[str]:
    """Option lines of click's help that end at the option itself (no help text)."""
    return [
        line.strip()
        for line in text.split("Options:", 1)[1].splitlines()
        if re.fullmatch(r"\s+(-\w, )?--[\w-]+( [A-Z\[\]0-9<=>.,-]+)?", line)
    ]


def test_every_serve_option_has_help() -> None:
    text = help_of("serve")
    assert options_without_help(text) == []
    assert "Port to listen on" in text
    assert "--keep-base-url" in text
    assert "docs/serving.md" in text and (ROOT / "docs" / "serving.md").is_file()


def test_build_help_points_to_the_docs_not_a_source_file() -> None:
    text = help_of("build")
    assert not re.search(r"feeds/\w+\.py", text)
    assert "docs/export.md" in text and (ROOT / "docs" / "export.md").is_file()
    assert options_without_help(text) == []
