"""`jsontext.dumps_indented` writes exactly what `json.dumps(..., ensure_ascii=False,
indent=...)` writes, for any JSON value (and hands anything else back to it)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.render.jsontext import dumps_indented

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included: json.dumps writes NaN, Infinity
    | st.text()
    | st.sampled_from(["", "é", "北京", "\u2028", '"', "\\", "</script>", "\x00\x1f"])
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=5), children, max_size=4)
        | st.dictionaries(st.integers() | st.booleans() | st.none(), children, max_size=3)
    ),
    max_leaves=25,
)


@settings(max_examples=1000, deadline=None)
@given(value=values, indent=st.sampled_from([0, 1, 2, 4]))
def test_the_same_text_as_json_dumps(value: Any, indent: int) -> None:
    assert dumps_indented(value, indent) == json.dumps(value, ensure_ascii=False, indent=indent)


def test_a_feed_item() -> None:
    item = {
        "id": "tag:e.org,2019:entry/x",
        "title": 'Cities & citizens — 北京 "quoted"',
        "tags": ["a", "b"],
        "empty": [],
        "_event": {"all_day": True, "geo": [51.2277, 6.7735], "timezone": None, "n": {}},
    }
    assert dumps_indented(item) == json.dumps(item, ensure_ascii=False, indent=2)
