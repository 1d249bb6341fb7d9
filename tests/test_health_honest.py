"""/health is honest and public (findings 5 and 7).

- It never holds text from the catalog file: with entries.yaml a symlink to a secrets
  file, no key name, value or first line of it shows in /health (in-process and through
  the real server); only line numbers, schema field paths and counts. The full messages
  go to the log.
- While a build runs long it says `building` and for how long (`?strict=1`: 503).
- Its Content-Type names the charset.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from servers import start_gunicorn
from test_gunicorn import fetch

from feeds.model import Catalog
from feeds.serve.web import create_app, runtime

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD = 30.0

SECRETS = {
    "env": b"# production secrets for db.internal.example\n"
    b"DB_PASSWORD=s3cr3t-hunter2\nAWS_SECRET_ACCESS_KEY=AKIAEXAMPLEKEY1234\n",
    "yaml": b"DB_PASSWORD: s3cr3t-hunter2\nAWS_SECRET_ACCESS_KEY: AKIAEXAMPLEKEY1234\n"
    b"feed: {title: db.internal.example}\n",
    "json": b'{"DB_PASSWORD": "s3cr3t-hunter2", "AWS_SECRET_ACCESS_KEY": "AKIAEXAMPLEKEY1234"}\n',
}
# What must never show: key names, values, words of the first line, the target's name.
NEVER_SHOWN = [
    "DB_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "s3cr3t",
    "hunter2",
    "AKIAEXAMPLEKEY",
    "production",
    "db.internal",
    "secrets.env",
]


def secrets_behind_catalog(tmp_path: Path, text: bytes) -> Path:
    """entries.yaml, a symlink to a secrets file in another folder (an operator's slip)."""
    private = tmp_path / "private"
    private.mkdir()
    (private / "secrets.env").write_bytes(text)
    catalog = tmp_path / "site" / "entries.yaml"
    catalog.parent.mkdir()
    catalog.symlink_to(private / "secrets.env")
    return catalog


def assert_no_secret(body: str) -> None:
    shown = [secret for secret in NEVER_SHOWN if secret.lower() in body.lower()]
    assert not shown, f"/health shows {shown}:\n{body}"


@pytest.mark.parametrize("shape", sorted(SECRETS))
def test_a_secrets_file_as_catalog_never_shows_in_health(tmp_path: Path, shape: str) -> None:
    catalog = secrets_behind_catalog(tmp_path, SECRETS[shape])
    app = create_app(catalog, {"TESTING": True, "RELOAD": False, "WEBSUB": False})
    response = app.test_client().get("/health")
    assert_no_secret(response.get_data(as_text=True))
    assert response.status_code == 503
    report = json.loads(response.data)
    assert report["status"] == "failed"
    assert report["problem_count"] == len(report["problems"]) > 0
    for problem in report["problems"]:
        assert set(problem) == {"line", "field"} and isinstance(problem["line"], int)


@pytest.mark.slow
def test_a_catalog_switched_to_a_secrets_file_never_shows_in_the_servers_health(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.yaml"
    shutil.copyfile(ROOT / "entries.yaml", good)
    catalog = secrets_behind_catalog(tmp_path, SECRETS["yaml"])
    catalog.unlink()
    catalog.symlink_to(good)
    with start_gunicorn(catalog, tmp_path / "gunicorn.log", {"FEEDS_WORKERS": "2"}) as server:
        assert json.loads(fetch(server, "/health")[2])["status"] == "ok"
        switched = catalog.with_name(".entries.yaml.new")
        switched.symlink_to(tmp_path / "private" / "secrets.env")
        switched.rename(catalog)  # `ln -sf`, atomically
        deadline = time.monotonic() + HANG_GUARD
        while True:
            status, headers, body = fetch(server, "/health")
            report = json.loads(body)
            if report["status"] == "stale" and report["problems"]:
                break
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        assert status == 200 and report["catalog"]["entries"] == 10  # the last good one
        assert_no_secret(body.decode())
        assert fetch(server, "/health?strict=1")[0] == 503
        assert "DB_PASSWORD" in server.output()  # the operator's log has the messages


def test_a_long_build_is_reported_as_building(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    started, release = threading.Event(), threading.Event()

    def slow_renderer(built: Catalog) -> Mapping[str, bytes]:
        if any(entry.title.startswith("Slow") for entry in built.entries):
            started.set()
            release.wait(HANG_GUARD)  # a build that runs long, as at 100k entries
        return {"/plain.txt": built.version.encode()}

    config = {"TESTING": True, "RELOAD": False, "WEBSUB": False, "RENDERERS": [slow_renderer]}
    app = create_app(catalog, config)
    client = app.test_client()
    assert client.get("/health").get_json()["status"] == "ok"
    text = catalog.read_text()
    assert 'title: "Bologna' in text
    saved = catalog.with_name("saved.yaml")
    saved.write_text(text.replace('title: "Bologna', 'title: "Slow Bologna', 1))
    saved.rename(catalog)  # an atomic save: read at the first look
    checking = threading.Thread(target=runtime(app).watcher.check_now)
    checking.start()
    try:
        assert started.wait(HANG_GUARD)
        response = client.get("/health")
        report = response.get_json()
        assert (response.status_code, report["status"]) == (200, "building")
        assert report["seconds"] >= 0 and report["reason"]
        assert client.get("/health?strict=1").status_code == 503
    finally:
        release.set()
        checking.join()
    assert client.get("/health?strict=1").status_code == 200


def test_health_names_its_charset(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    app = create_app(catalog, {"TESTING": True, "RELOAD": False, "WEBSUB": False})
    response = app.test_client().get("/health")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
