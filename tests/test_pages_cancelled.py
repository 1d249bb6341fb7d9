"""Cancelled and recurring events on the pages: what each offers to add to a calendar.

A cancelled event carries a "Cancelled" badge wherever it is listed (home, the events
list and month grid, its tags' pages, the embed page) and its own page says so and
offers no add-to-calendar link. A recurring event offers no Outlook.com link (Outlook's
add-event link has no recurrence: the event would be added once), only the .ics. The
widget (embed.js) is checked in Chromium: tests/test_browser_subscribe.py.
"""

from __future__ import annotations

from functools import cache

import lxml.html

from feeds.catalog import parse_catalog
from feeds.model import Catalog
from feeds.render.pages import PageRenderer
from feeds.site import Site, build_site

CATALOG = """
feed:
  title: City news
  link: https://example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2024
  language: en
  timezone: Europe/Brussels
entries:
  - id: called-off
    title: Called-off forum
    tags: [city]
    published: 2024-03-01
    event:
      start: 2024-05-02
      end: 2024-05-03
      location: Ghent, Belgium
      status: cancelled
  - id: monthly-call
    title: Monthly call
    tags: [city]
    event:
      start: 2024-03-05T10:00:00
      end: 2024-03-05T11:00:00
      rrule: FREQ=MONTHLY;BYDAY=1TU;COUNT=6
  - id: expo
    title: City expo
    tags: [city]
    published: 2024-02-01
    event:
      start: 2024-04-10
      end: 2024-04-10
"""

LISTING_PAGES = ["/", "/events/", "/tags/city/", "/embed/"]
GOOGLE = "https://calendar.google.com/calendar/render?"
OUTLOOK = "https://outlook.live.com/calendar/0/action/compose?"


@cache
def catalog() -> Catalog:
    return parse_catalog(CATALOG.encode())


@cache
def site() -> Site:
    return build_site(catalog())


def document(path: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(site()[path].body)


def hrefs(path: str) -> list[str]:
    return [str(a.get("href")) for a in document(path).iter("a")]


def badges_beside(path: str, title: str) -> list[str]:
    """The status badges in each list item (or grid cell entry) linking to `title`."""
    items = document(path).xpath("//a[normalize-space(.)=$title]/ancestor::li[1]", title=title)
    assert items, f"{path}: {title} is not listed"
    return [
        " ".join(item.xpath("string(.//*[contains(@class, 'status-cancelled')])").split())
        for item in items
    ]


def test_a_cancelled_event_is_badged_everywhere_and_offers_nothing_to_add() -> None:
    for path in LISTING_PAGES:  # the embed page lists it as news and as an event
        assert set(badges_beside(path, "Called-off forum")) == {"Cancelled"}, path
        assert set(badges_beside(path, "City expo")) == {""}, path
    # the month grid: each of its two days, besides the list
    assert badges_beside("/events/", "Called-off forum") == ["Cancelled"] * 3
    page = document("/entries/called-off/")
    notice = page.xpath("string(//*[contains(@class, 'notice-cancelled')])")
    assert " ".join(notice.split()) == "Cancelled. This event will not take place."
    links = hrefs("/entries/called-off/")
    assert not [h for h in links if h.startswith((GOOGLE, OUTLOOK)) or h.endswith(".ics")]
    assert page.xpath("//a[@download]") == []
    assert "Add to your calendar" not in page.text_content()
    # entry.html and the fast path (pages_entry.py) write the same pages
    renderer = PageRenderer(catalog())
    for entry in catalog().entries:
        assert renderer.entry(entry) == renderer.entry_from_template(entry), entry.id


def test_a_recurring_event_goes_to_outlook_through_the_ics() -> None:
    links = hrefs("/entries/monthly-call/")
    assert not [h for h in links if h.startswith(OUTLOOK)]
    assert "/entries/monthly-call.ics" in links
    assert site().get("/entries/monthly-call.ics") is not None
    google = [h for h in links if h.startswith(GOOGLE)]
    assert len(google) == 1 and "RRULE%3AFREQ%3DMONTHLY" in google[0]
    text = " ".join(document("/entries/monthly-call/").text_content().split())
    assert "Outlook.com: download the .ics and import it" in text
    # a one-off event keeps all three
    links = hrefs("/entries/expo/")
    assert "/entries/expo.ics" in links
    assert [h for h in links if h.startswith(GOOGLE)]
    assert [h for h in links if h.startswith(OUTLOOK)]
