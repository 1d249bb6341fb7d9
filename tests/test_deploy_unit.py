"""The deployment the README shows (and docs/serving.md repeats): the systemd unit
(deploy/feeds.service) is valid for systemd and runs README's command, and the nginx proxy
block serves what gunicorn does."""

from __future__ import annotations

import configparser
import http.client
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from servers import GUNICORN, NGINX, free_port, start_process

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "feeds.service"
README = (ROOT / "README.md").read_text("utf-8")
# The README's production command and nginx proxy block, repeated in the serving reference.
DEPLOY_DOCS = ("README.md", "docs/serving.md")
COMMAND = re.compile(r"cd (\S+) && (FEEDS_CATALOG=\S+) \.venv/bin/(gunicorn .+)\n")
NGINX_BLOCK = re.compile(r"```nginx\n(server \{.*?\n\})\n```", re.DOTALL)
INSTALLED_AT = "/srv/feeds"  # where the unit and README put the checkout


def unit_here(tmp_path: Path) -> Path:
    """The unit with this checkout in place of /srv/feeds (systemd checks that the
    command exists)."""
    path = tmp_path / "feeds.service"
    path.write_text(UNIT.read_text().replace(INSTALLED_AT, str(ROOT)))
    return path


def unit_settings() -> dict[str, list[str]]:
    """`Key -> values` of the [Service] section (Environment= comes more than once)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in UNIT.read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # no systemd here: at least every key parses into its section
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(UNIT)
        assert {"Unit", "Service", "Install"} <= set(parser.sections())
        assert parser["Service"]["ExecStart"]
        return
    result = subprocess.run(
        [analyze, "verify", str(unit_here(tmp_path))], capture_output=True, text=True, timeout=60
    )
    # Unknown keys and bad values are warnings on stderr, with a status of 0.
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_the_unit_runs_the_readme_command() -> None:
    settings = unit_settings()
    command = COMMAND.search(README)
    assert command is not None, "README, Serving: the production command"
    folder, catalog, gunicorn = command.groups()
    assert settings["WorkingDirectory"] == [folder] == [INSTALLED_AT]
    assert settings["ExecStart"] == [f"{folder}/.venv/bin/{gunicorn}"]
    assert catalog in settings["Environment"]
    assert settings["Type"] == ["notify"]  # gunicorn says READY=1 after the first build


def readme_nginx_block() -> str:
    match = NGINX_BLOCK.search(README)
    assert match is not None, "README, Serving: the nginx block"
    return match.group(1)


@pytest.mark.parametrize("name", DEPLOY_DOCS[1:])
def test_the_reference_repeats_the_readme_command_and_nginx_block(name: str) -> None:
    """What these tests check in the README is what the serving reference shows too."""
    text = (ROOT / name).read_text("utf-8")
    readme_command = COMMAND.search(README)
    assert readme_command is not None, "README, Serving: the production command"
    commands = {match.group(0) for match in COMMAND.finditer(text)}
    blocks = {match.group(1) for match in NGINX_BLOCK.finditer(text)}
    assert commands == {readme_command.group(0)}, f"{name}: the production command"
    assert blocks == {readme_nginx_block()}, f"{name}: the nginx proxy block"


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed")
def test_the_readme_nginx_block_serves_what_gunicorn_does(tmp_path: Path) -> None:
    app_port, proxy_port = free_port(), free_port()
    env = {name: value for name, value in os.environ.items() if name != "FEEDS_WORKER_CLASS"}
    env.update(FEEDS_CATALOG=str(ROOT / "entries.yaml"), FEEDS_WORKERS="1", TMPDIR=str(tmp_path))
    env["FEEDS_BIND"] = f"127.0.0.1:{app_port}"
    # The unit's command, from the checkout as its WorkingDirectory says.
    (command,) = unit_settings()["ExecStart"]
    argv = [str(GUNICORN), *shlex.split(command)[1:]]
    block = readme_nginx_block().replace("listen 80;", f"listen 127.0.0.1:{proxy_port};")
    block = block.replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
    prefix = Path(tempfile.mkdtemp(prefix="feeds-nginx-proxy-"))
    temp = "".join(
        f"{name}_temp_path {prefix}/{name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = prefix / "nginx.conf"
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"{user}worker_processes 1;\nevents {{ worker_connections 64; }}\n"
        f"http {{\naccess_log off;\n{temp}{block}\n}}\n"
    )
    nginx = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", "stderr"]
    nginx += ["-g", f"daemon off; pid {prefix}/nginx.pid; error_log stderr warn;"]
    try:
        with (
            start_process(argv, app_port, tmp_path / "gunicorn.log", cwd=ROOT, env=env),
            start_process(nginx, proxy_port, tmp_path / "nginx.log", stop_signal=signal.SIGQUIT),
        ):
            for path in ("/", "/feed.atom", "/events.ics", "/health"):
                direct, proxied = fetch(app_port, path), fetch(proxy_port, path)
                assert proxied[0] == direct[0] == 200, path
                if path != "/health":  # its report says when it was made
                    assert proxied[2] == direct[2], path
                    assert proxied[1]["etag"] == direct[1]["etag"], path
                assert proxied[1]["content-type"] == direct[1]["content-type"], path
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
