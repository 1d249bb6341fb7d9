"""Renderers: pure functions Catalog -> {url path: bytes}, one module a format.

Each module exposes `render(catalog) -> dict[str, bytes]`; `feeds.site` lists them.
"""
