"""Files written for the editor beside a catalog (`feeds new`'s schema, `feeds import`'s
catalog): made whole in a hidden temporary file first, then put in place by the caller."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_ATTEMPTS = 100  # names taken by chance before giving up: never, in practice


def temporary_beside(target: Path, text: str) -> Path:
    """`text` in a new hidden file beside `target`, flushed to the disk; the caller renames
    or links it into place. Made as any new file of the user's (0644 less the umask), not
    0600 as `tempfile` makes them: a catalog must be readable by a server running as
    another user, and a schema by the editor's tools."""
    for _ in range(_ATTEMPTS):
        candidate = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
        try:  # O_EXCL: never an existing file, nor a symlink planted at the name
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        return candidate
    raise FileExistsError(f"{target.parent}: no free name for a temporary file")
