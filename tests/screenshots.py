"""Screenshots read back with Pillow: a PNG Chromium wrote is checked for what a person
would see (its size, that it is not blank, light or dark), not only that it exists."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

# Under this luma (ITU-R BT.601, 0-255 scale times 1000) a pixel counts as dark.
_DARK_LUMA = 80_000


@dataclass
class Screenshot:
    width: int
    height: int
    colours: dict[tuple[int, int, int], int] = field(repr=False)  # the top rows', RGB

    @classmethod
    def read(cls, path: Path, top: int) -> Screenshot:
        """The image at `path` (fully decoded: a damaged file fails here), with the
        colours of its first `top` rows: what a reader sees first, at a bounded cost."""
        with Image.open(path) as image:
            assert image.format == "PNG", f"{path.name}: not a PNG"
            image.load()
            width, height = image.size
            first = image.convert("RGB").crop((0, 0, width, min(top, height)))
            counted = first.getcolors(maxcolors=first.width * first.height) or []
        return cls(width, height, {colour: n for n, colour in counted})

    def dark_share(self) -> float:
        """The share of pixels darker than mid-grey."""
        dark = sum(
            n for (r, g, b), n in self.colours.items() if 299 * r + 587 * g + 114 * b < _DARK_LUMA
        )
        return dark / sum(self.colours.values())


def assert_rendered(
    path: Path, width: int, height: int, dark: bool = False, ours: bool = True
) -> Screenshot:
    """A full-page shot of a `width` x `height` viewport (device pixels): exactly as wide
    (no sideways scrolling) when the page is `ours` (another site's page around a widget
    may be laid out wider), at least as tall, not blank (text alone brings hundreds of
    colours), and mostly dark or mostly light as its colour scheme asks."""
    shot = Screenshot.read(path, top=height)
    assert shot.width == width if ours else shot.width >= width, (path.name, shot.width)
    assert shot.height >= height, (path.name, shot.height)
    assert len(shot.colours) >= 64, (path.name, len(shot.colours))
    share = shot.dark_share()
    assert (share > 0.3) if dark else (share < 0.2), (path.name, share)
    return shot
