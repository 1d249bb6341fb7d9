"""Cache files that only this user's own feeds processes could have written.

Every file feeds keeps to read back as objects (the build cache's parse, memo tables and
export manifests, the shared build's index and rows, the compiled templates) is pickle
or marshal, and unpickling runs whatever the bytes ask for. Such a file can be planted
by anyone who can write where it lies: beside a catalog, that is every editor (a pull
request in CI). So each file is sealed with a per-user secret key and never unpickled
unless the seal is right:

    MAGIC (16 bytes) | HMAC-SHA256(key, MAGIC + purpose + NUL + payload) | payload

The key is 32 random bytes in `${XDG_STATE_HOME:-~/.local/state}/feeds/cache.key`,
outside any catalog's folder, made 0600 in a 0700 folder, and used only if it is still
a regular file of this user's that no one else can read or write. The `purpose` (what
the file is for) is part of the seal, so one of our files cannot stand in for another.
A file that is missing is `FileNotFoundError`; one that is there but not sealed with
the key (planted, damaged, cut short, another user's or machine's) is `Unsealed`, and
its bytes are never looked at beyond the seal. Where no key can be kept privately,
every function here raises `NoKey` and the callers keep no cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import pickle
import secrets
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

MAGIC = b"feeds sealed v1\n"
KEY_BYTES = 32
_MAC_BYTES = hashlib.sha256().digest_size
_HEADER = len(MAGIC) + _MAC_BYTES


class NoKey(OSError):
    """No key can be kept privately (no home, an unwritable or shared folder ...)."""


class Unsealed(ValueError):
    """A file that is there but not sealed with this user's key: never trusted."""


class Outdated(ValueError):
    """A file sealed by us that this code cannot read back (written by another version)."""


def key_path() -> Path:
    """Where this user's key is: `$XDG_STATE_HOME/feeds/cache.key` (an absolute
    XDG_STATE_HOME, as the XDG spec says), else `~/.local/state/feeds/cache.key`."""
    state = os.environ.get("XDG_STATE_HOME", "")
    try:
        base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    except RuntimeError as exc:  # no HOME and no password entry
        raise NoKey(f"no home folder to keep the cache key in ({exc})") from None
    return base / "feeds" / "cache.key"


def key() -> bytes:
    """This user's key, made on first use; read once per process and location."""
    return _key_at(key_path())


@functools.cache
def _key_at(path: Path) -> bytes:
    try:
        folder = path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_private(folder, is_folder=True)
        try:
            return _read_key(path)
        except FileNotFoundError:
            _make_key(path)
            return _read_key(path)
    except NoKey:
        raise
    except OSError as exc:
        raise NoKey(f"cannot keep the cache key in {path}: {exc.strerror or exc}") from None


def _make_key(path: Path) -> None:
    """Write a new key under a temporary name, then link it in place: a process racing
    this one sees no key or a whole one, and the first to link wins for both."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cache.key-")  # 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process's came first: the key
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        _check_private(path, is_folder=False, status=os.fstat(fd))
        data = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) != KEY_BYTES:
        raise NoKey(f"{path} is not a cache key ({len(data)} bytes): remove it to have a new one")
    return data


def _check_private(path: Path, is_folder: bool, status: os.stat_result | None = None) -> None:
    """Refuse what another user owns or could change (the key: also read)."""
    status = status or os.lstat(path)
    kind_ok = stat.S_ISDIR(status.st_mode) if is_folder else stat.S_ISREG(status.st_mode)
    shared = 0o022 if is_folder else 0o077
    if not kind_ok or status.st_uid != os.geteuid() or status.st_mode & shared:
        what = "folder" if is_folder else "regular file"
        raise NoKey(
            f"{path} must be a {what} of this user's that no other user can "
            f"{'write' if is_folder else 'read or write'}; fix or remove it"
        )


def _mac(secret: bytes, purpose: str) -> hmac.HMAC:
    return hmac.new(secret, MAGIC + purpose.encode() + b"\0", hashlib.sha256)


class _Sealing:
    """A file being written: what is written goes into the seal as well."""

    def __init__(self, file: IO[bytes], mac: hmac.HMAC) -> None:
        self._file, self._mac = file, mac

    def write(self, data: bytes) -> int:
        self._mac.update(data)
        return self._file.write(data)


def write(path: Path, purpose: str, dump: Callable[[IO[bytes]], object]) -> None:
    """Write a sealed file at `path` whole (a temporary file renamed; 0600): `dump`
    writes the payload into the file object it is given (pickle.dump, Jinja's bucket),
    sealed as it goes, without a copy of it in memory."""
    secret = key()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(MAGIC + bytes(_MAC_BYTES))  # the seal, once the payload is written
            mac = _mac(secret, purpose)
            dump(_Sealing(file, mac))  # type: ignore[arg-type]  # a writable file for them
            file.seek(len(MAGIC))
            file.write(mac.digest())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def read(path: Path, purpose: str) -> memoryview:
    """The payload of the sealed file at `path`, checked before anything reads it.
    FileNotFoundError when there is none; Unsealed when it is not sealed for `purpose`
    with this user's key."""
    secret = key()
    # Not blocking: a FIFO planted here would hang a plain open for ever.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Unsealed("not a regular file")
        data = file.read()
    view = memoryview(data)
    if len(data) < _HEADER or view[: len(MAGIC)] != MAGIC:
        raise Unsealed("not a sealed feeds cache file")
    mac = _mac(secret, purpose)
    mac.update(view[_HEADER:])
    if not hmac.compare_digest(mac.digest(), view[len(MAGIC) : _HEADER]):
        raise Unsealed("not sealed with this user's cache key")
    return view[_HEADER:]


def dump(path: Path, purpose: str, value: object) -> None:
    """`write` `value` pickled."""
    write(path, purpose, lambda file: pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL))


def load(path: Path, purpose: str) -> object:
    """The value `dump` wrote at `path` (see `read`); Outdated when this code cannot
    unpickle it (our own file, from another version of the code)."""
    payload = read(path, purpose)
    try:
        return pickle.loads(payload)
    except Exception as exc:  # noqa: BLE001 - authenticated, so ours: only stale
        raise Outdated(f"written by another version of feeds ({exc})") from None


def ignored(path: Path, problem: Exception) -> str:
    """The one line saying that the file at `path` was ignored, and why."""
    if isinstance(problem, NoKey):
        return f"no cache: {problem}"
    return (
        f"ignored the cache file {path} ({problem}): it may have been planted or damaged, "
        "so nothing in it was used"
    )


def _said_token() -> int:
    """A pipe holding one byte, read by the first `say_once` of this process or of any
    process forked from it (reading one byte from a pipe is atomic): the two processes
    of a build, the workers of a server, say one line between them, not one each."""
    read, write = os.pipe()
    os.write(write, b"!")
    os.close(write)  # emptied, the pipe reads as EOF: nothing more to say
    os.set_blocking(read, False)
    return read


_SAID = _said_token()


def say_once(path: Path, problem: Exception, say: Callable[[str], object]) -> None:
    """`say` the `ignored` line, if nothing was said yet (see `_said_token`): one bad
    file or twenty, of any kind, one line; the cache heals as it is saved again."""
    try:
        first = os.read(_SAID, 1)
    except OSError:
        return
    if first:
        say(ignored(path, problem))
