"""A minimal Language Server Protocol client for yaml-language-server: the diagnostics
an editor shows for YAML files, for tests of `feeds schema` in a real editor's server.

The server is not a dependency of the project: `find_server()` looks for it in
node_modules (`npm install yaml-language-server`) or in $YAML_LANGUAGE_SERVER.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
#: A hang guard, not a timing assertion: the server answers in well under a second.
TIMEOUT_SECONDS = 60.0


def find_server() -> str | None:
    configured = os.environ.get("YAML_LANGUAGE_SERVER")
    local = ROOT / "node_modules" / ".bin" / "yaml-language-server"
    if configured:
        return configured
    return str(local) if local.exists() else shutil.which("yaml-language-server")


def _send(stream: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def _read_messages(stream: IO[bytes], messages: queue.Queue[dict[str, Any]]) -> None:
    while True:
        length = 0
        while (line := stream.readline().strip()) != b"":
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if not length:
            return  # the server closed its output
        messages.put(json.loads(stream.read(length)))


class Session:
    """One server over stdio, its workspace the folder `root`, `settings` its config."""

    def __init__(self, server: str, root: Path, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.process = subprocess.Popen(
            [server, "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(
            target=_read_messages, args=(self.process.stdout, self.messages), daemon=True
        ).start()
        folder = {"uri": root.as_uri(), "name": root.name}
        capabilities = {"workspace": {"configuration": True}}
        self.request(1, "initialize", processId=None, rootUri=root.as_uri(),
                     capabilities=capabilities, workspaceFolders=[folder])  # fmt: skip
        self.wait(lambda message: message.get("id") == 1)
        _send(self.stdin, {"method": "initialized", "params": {}})
        _send(
            self.stdin,
            {"method": "workspace/didChangeConfiguration", "params": {"settings": settings}},
        )

    def request(self, number: int, method: str, **params: Any) -> None:
        _send(self.stdin, {"id": number, "method": method, "params": params})

    def wait(self, wanted: Any) -> dict[str, Any]:
        """The next message `wanted` accepts, answering the server's own requests."""
        while True:
            message = self.messages.get(timeout=TIMEOUT_SECONDS)
            if "method" in message and "id" in message:
                _send(self.stdin, {"id": message["id"], "result": self._answer(message)})
            if wanted(message):
                return message

    def _answer(self, message: dict[str, Any]) -> Any:
        if message["method"] != "workspace/configuration":
            return None
        return [self.settings.get(item.get("section", "")) for item in message["params"]["items"]]

    def diagnostics(self, path: Path) -> list[tuple[int, str]]:
        """(line, message) of each problem the server reports for the file, 1-based."""
        uri = path.resolve().as_uri()
        document = {"uri": uri, "languageId": "yaml", "version": 1, "text": path.read_text()}
        _send(self.stdin, {"method": "textDocument/didOpen", "params": {"textDocument": document}})
        published = self.wait(
            lambda message: (
                message.get("method") == "textDocument/publishDiagnostics"
                and message["params"]["uri"] == uri
            )
        )
        return sorted(
            (problem["range"]["start"]["line"] + 1, problem["message"])
            for problem in published["params"]["diagnostics"]
        )

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
