"""Start real servers for end-to-end tests: a free loopback port, a subprocess, a clean stop.

    with start_nginx(site_dir, free_port()) as nginx:
        urllib.request.urlopen(nginx.url("/feed.atom"))

`start_nginx` serves `site_dir` with the shipped `deploy/nginx.conf` (the file operators
include), rendered into a private prefix so that parallel tests never share a port,
pid file or temp directory. `start_gunicorn` runs the documented production command.
`start_process` is the generic part.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
GUNICORN = Path(sys.executable).parent / "gunicorn"
DOCUMENTED_APP = "asgi:app"  # README, Serving (and docs/serving.md): gunicorn asgi:app
READY_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path  # its stdout and stderr, for failure messages

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Block until something accepts connections on `port`; fail with the server's log."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{_read(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} within {READY_TIMEOUT} s:\n{_read(log)}")


@contextmanager
def start_process(
    argv: Sequence[str],
    port: int,
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stop_signal: int = signal.SIGTERM,
) -> Iterator[Server]:
    """Run `argv` until the block ends; yield once it accepts connections on `port`.

    Stops it with `stop_signal` (then SIGKILL after 10 s) even when the test fails, so no
    process outlives its test.
    """
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, process, log)
        yield Server(process=process, port=port, log=log)
    finally:
        _stop(process, stop_signal)


@contextmanager
def start_gunicorn(
    catalog: Path,
    log: Path,
    settings: Mapping[str, str] | None = None,
    app: str = DOCUMENTED_APP,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """The documented command, `gunicorn -c gunicorn.conf.py asgi:app`, serving `catalog`
    on a free loopback port until the block ends. `settings`: more FEEDS_* variables
    (`{"FEEDS_WORKERS": "2"}`); `environ`: the rest of the environment (default: ours)."""
    port = free_port()
    env = {
        **(os.environ if environ is None else environ),
        "FEEDS_CATALOG": str(catalog),
        "FEEDS_BIND": f"127.0.0.1:{port}",
        **(settings or {}),
    }
    argv = [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), app]
    with start_process(argv, port, log, cwd=ROOT, env=env) as server:
        yield server


def _stop(process: subprocess.Popen[bytes], stop_signal: int) -> None:
    if process.poll() is not None:
        return
    process.send_signal(stop_signal)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def render_nginx_conf(root_dir: Path, port: int, prefix: Path) -> Path:
    """A complete nginx.conf in `prefix`: a minimal http{} that includes deploy/nginx.conf.

    The shipped file is included unchanged except for its `listen` and `root` lines (the
    two an operator edits), so the tests exercise exactly what operators deploy.
    """
    site_conf = _with_listen_and_root(NGINX_CONF.read_text(), port, root_dir)
    (prefix / "feeds-site.conf").write_text(site_conf)
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "temp" / name).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""# rendered by tests/servers.py
{"user root root;" if os.geteuid() == 0 else ""}
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/temp/client_body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    include {prefix}/feeds-site.conf;
}}
"""
    )
    return conf


def _with_listen_and_root(conf: str, port: int, root_dir: Path) -> str:
    lines = conf.splitlines()
    listen = [i for i, line in enumerate(lines) if re.match(r"\s*listen\s", line)]
    roots = [i for i, line in enumerate(lines) if re.match(r"\s*root\s", line)]
    if not listen or len(roots) != 1:
        raise ValueError(f"{NGINX_CONF} must have listen lines and exactly one root line")
    indent = re.match(r"\s*", lines[roots[0]]).group(0)  # type: ignore[union-attr]
    lines[roots[0]] = f"{indent}root {root_dir};"
    lines[listen[0]] = f"{indent}listen 127.0.0.1:{port};"
    for i in reversed(listen[1:]):
        del lines[i]
    return "\n".join(lines) + "\n"


@contextmanager
def start_nginx(root_dir: Path, port: int | None = None) -> Iterator[Server]:
    """Serve `root_dir` with deploy/nginx.conf on 127.0.0.1:`port` (a free one by default).

    Runs as a foreground master (`daemon off`). When we are root its worker runs as root
    too: pytest's tmp_path sits below a 0700 folder that nginx's default `nobody` could
    not enter. The prefix, pid file and temp paths are private to this call and removed
    afterwards.
    """
    port = port or free_port()
    prefix = Path(tempfile.mkdtemp(prefix="feeds-nginx-"))
    os.chmod(prefix, 0o755)
    try:
        conf = render_nginx_conf(Path(root_dir), port, prefix)
        argv = [
            NGINX,
            "-p",
            str(prefix),
            "-c",
            str(conf),
            "-e",
            "stderr",
            "-g",
            f"daemon off; master_process on; pid {prefix}/nginx.pid; error_log stderr warn;",
        ]
        test = subprocess.run([*argv, "-t", "-q"], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t rejected the configuration:\n{test.stderr}")
        # SIGQUIT: graceful stop, lets the worker finish what it is sending.
        with start_process(argv, port, prefix / "nginx.log", stop_signal=signal.SIGQUIT) as s:
            yield s
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def _read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else "(no output)"
