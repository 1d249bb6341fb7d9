"""The View a process serves from: after a reload, outputs the edit did not change keep
their prepared answers (header lists), pointing at the new Site's bodies, and every
answer is what a View made from scratch would send."""

from __future__ import annotations

from pathlib import Path

from feeds.catalog import parse_catalog
from feeds.serve.responder import make_view
from feeds.serve.served import View, ViewMaker
from feeds.site import Site, build_site

CATALOG = Path(__file__).resolve().parent.parent / "entries.yaml"


def sites() -> tuple[Site, Site]:
    text = CATALOG.read_text("utf-8")
    edited = text.replace("title: EUROCITIES news and events", "title: EUROCITIES news", 1)
    site, edited_site = (
        build_site(parse_catalog(t.encode(), str(CATALOG))) for t in (text, edited)
    )
    return site, edited_site


def assert_same_answers(view: View, reference: View) -> None:
    assert view.served.keys() == reference.served.keys()
    assert view.tags == reference.tags and view.version == reference.version
    for path, served in view.served.items():
        expected = reference.served[path]
        assert served.last_modified == expected.last_modified, path
        pairs = [(served.identity, expected.identity), (served.gzip, expected.gzip)]
        for variant, wanted in pairs:
            if wanted is None:
                assert variant is None, path
                continue
            assert variant is not None, path
            assert variant.body == wanted.body, path
            assert variant.etag == wanted.etag, path
            assert variant.ok_headers == wanted.ok_headers, path
            assert variant.not_modified_headers == wanted.not_modified_headers, path


def test_the_in_process_view_reuses_the_answers_of_unchanged_outputs() -> None:
    site, edited_site = sites()
    maker = ViewMaker()
    first = make_view(site, (), banner=False, maker=maker)
    second = make_view(edited_site, (), banner=False, maker=maker)
    assert_same_answers(second, make_view(edited_site, (), banner=False))
    for path, output in edited_site.outputs.items():
        served, before = second.served[path], first.served[path]
        if output.etag == site[path].etag:
            # The header lists are the very same; the body is the new Site's.
            assert served.identity.ok_headers is before.identity.ok_headers
            assert served.identity.data is output.source
        else:
            assert served.identity.ok_headers is not before.identity.ok_headers
