"""`PageItems`: the items of one long list page, kept from the last time it was rendered.

/events/ lists every event (3,300 at 10k) and /embed/ ~750 entries. Each item is cached
by its entry's key, but a plain memo table keeps only what the latest build used: a
build that reuses the whole page asks for no item, and the items would be swept, so the
next edit to the list would render all of them again. This table is swept only by a
build that rendered its page (and so asked for every item the page now shows): what it
holds is always one rendering's worth of the page.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from ..memo import Memo

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PageItems(Memo[K, V]):
    """A memo table of one page's items (see the module doc); keys are content keys, so
    an item kept is never a stale one."""

    def sweep(self) -> None:
        if self.used:  # the page was rendered: keep exactly the items it shows now
            super().sweep()
        # else the page was reused whole: keep its items for its next rendering
