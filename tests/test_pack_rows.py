"""The pack's rows travel as a rows file written now and then plus, in each index, the
rows changed since: a worker that followed every publish and one that starts late both
read exactly the rows of the Site published, across outputs changed, added and removed,
new rows files and new blob generations; unchanged rows read as they were."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from test_web_view import assert_same_answers

from feeds.serve.pack import PackReader
from feeds.serve.pack_writer import PackWriter
from feeds.serve.responder import make_view
from feeds.serve.served import ViewMaker
from feeds.site import Site, make_output

MOMENT = datetime(2019, 3, 14, tzinfo=UTC)


def site_of(bodies: dict[str, bytes], version: int) -> Site:
    outputs = {path: make_output(path, body, MOMENT) for path, body in bodies.items()}
    return Site(outputs=outputs, version=str(version), last_modified=MOMENT)


def rows_by_path(reader: PackReader) -> dict[str, tuple[object, ...]]:
    mapped = reader.read()
    assert mapped is not None and mapped.index.rows is not None
    rows = {row[0]: row for row in mapped.index.rows}
    assert len(rows) == len(mapped.index.rows)  # one row per path
    return rows


def test_every_publish_reads_as_the_site_published(tmp_path: Path) -> None:
    rng = random.Random(5)
    bodies = {f"/page-{n}.json": b'{"n": %d}' % n * 40 for n in range(60)}
    writer, follower = PackWriter(tmp_path), PackReader(tmp_path)
    for version in range(80):
        for _ in range(rng.choice([1, 2, 3, 12])):  # a few changes, now and then many
            path = f"/page-{rng.randrange(70)}.json"
            if path in bodies and rng.random() < 0.2:
                del bodies[path]
            else:
                bodies[path] = b'{"v": %d, "r": %d}' % (version, rng.randrange(9)) * 40
        site = site_of(bodies, version)
        writer.publish(site, {"status": "ok"})
        expected = make_view(site, (), banner=False)
        for reader in (follower, PackReader(tmp_path)):  # followed every publish; just came
            mapped = reader.read()
            assert mapped is not None
            view = ViewMaker().from_pack(mapped)
            assert view is not None
            assert_same_answers(view, expected)
            assert set(rows_by_path(reader)) == set(bodies)
    assert len(list(tmp_path.glob("rows-*"))) <= 2  # old rows files are removed


def test_a_publish_writes_the_changed_rows_and_a_reader_keeps_the_others(tmp_path: Path) -> None:
    bodies = {f"/page-{n}.json": b'{"n": %d}' % n * 40 for n in range(40)}
    writer, reader = PackWriter(tmp_path), PackReader(tmp_path)
    writer.publish(site_of(bodies, 0), {"status": "ok"})
    before = rows_by_path(reader)
    rows_files = sorted(path.name for path in tmp_path.glob("rows-*"))
    bodies["/page-3.json"] = b"changed" * 40
    writer.publish(site_of(bodies, 1), {"status": "ok"})
    after = rows_by_path(reader)
    assert sorted(path.name for path in tmp_path.glob("rows-*")) == rows_files  # not rewritten
    assert after["/page-3.json"] != before["/page-3.json"]
    assert all(after[path] == before[path] for path in before if path != "/page-3.json")


def test_the_rows_file_before_the_newest_stays_for_a_worker_that_just_read_the_index(
    tmp_path: Path,
) -> None:
    writer = PackWriter(tmp_path)
    written: list[set[str]] = []
    for version in range(3):  # every output changes: a new rows file each time
        bodies = {f"/page-{n}.json": b'{"v": %d}' % version * 40 for n in range(10)}
        writer.publish(site_of(bodies, version), {"status": "ok"})
        written.append({path.name for path in tmp_path.glob("rows-*")})
    first, second, third = written
    assert len(first) == 1 and first < second and len(second) == 2
    assert not first & third and len(third) == 2
