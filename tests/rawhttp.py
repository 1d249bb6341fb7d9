"""HTTP/1.x over a raw socket, for requests that no client library will send.

    answers = exchange(port, b"GET /../etc/passwd HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")

`exchange` writes the bytes as they are (bad methods, raw `..`, 100 KB request lines,
several pipelined requests) and reads until the server closes the connection;
`parse_answers` splits what came back into status, headers and body, one `RawAnswer`
per response. A server may close without answering at all (an empty list): callers
decide whether that is acceptable.
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass

READ_TIMEOUT = 10.0  # a bound against a server that never closes, not a timing check


@dataclass(frozen=True)
class RawAnswer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        lowered = name.lower()
        return next((v for n, v in self.headers if n.lower() == lowered), None)


def exchange(
    port: int, data: bytes, timeout: float = READ_TIMEOUT, *, half_close: bool = False
) -> bytes:
    """Send `data` to 127.0.0.1:`port` and return every byte received until the server
    closes (or `timeout` passes: whatever arrived by then). `half_close`: shut down our
    sending side once `data` is sent (`shutdown(SHUT_WR)`, as `nc -N` does), still reading."""
    received = bytearray()
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # The server may refuse mid-way (a 100 KB header) and close: read its answer.
        with contextlib.suppress(OSError):
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except OSError:  # reset after an error answer: keep what came before it
                break
            if not chunk:
                break
            received += chunk
    return bytes(received)


def parse_answers(raw: bytes, methods: list[str] | None = None) -> list[RawAnswer]:
    """Split a byte stream into responses; `methods[i]` tells whether answer i is to HEAD
    (no body whatever Content-Length says). Raises ValueError on a malformed response."""
    answers: list[RawAnswer] = []
    rest = raw
    while rest:
        head, separator, rest = rest.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError(f"incomplete response head: {head[:200]!r}")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        version, _, status_reason = status_line.partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x status line: {status_line[:200]!r}")
        code, _, reason = status_reason.partition(" ")
        headers = [_split_field(line) for line in lines]
        answer = RawAnswer(int(code), reason, headers, b"")
        is_head = (
            methods is not None
            and len(answers) < len(methods)
            and (methods[len(answers)] == "HEAD")
        )
        length = answer.header("Content-Length")
        if is_head or answer.status in (204, 304) or 100 <= answer.status < 200:
            body = b""
        elif length is not None:
            body, rest = rest[: int(length)], rest[int(length) :]
        else:
            body, rest = rest, b""  # delimited by the close
        answers.append(RawAnswer(answer.status, reason, headers, body))
    return answers


def _split_field(line: str) -> tuple[str, str]:
    name, colon, value = line.partition(":")
    if not colon:
        raise ValueError(f"malformed header line: {line[:200]!r}")
    return name.strip(), value.strip()


def request(
    method: str, target: str, headers: list[tuple[str, str]] | None = None, version: str = "1.1"
) -> bytes:
    """One request's bytes; `Host` and `Connection: close` unless `headers` gives them."""
    fields = list(headers or [])
    names = {name.lower() for name, _ in fields}
    if "host" not in names and version == "1.1":
        fields.insert(0, ("Host", "feeds.example.org"))
    if "connection" not in names:
        fields.append(("Connection", "close"))
    lines = [f"{method} {target} HTTP/{version}", *(f"{n}: {v}" for n, v in fields)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
