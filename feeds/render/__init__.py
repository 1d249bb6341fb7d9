"""Renderers: pure functions Catalog -> {url path: body}, one module a format.

Each module exposes `render(catalog) -> dict[str, bytes | Body]`; `feeds.site` lists
them. A body a renderer keeps between builds is a `feeds.body.Body` (kept as its gzip).
"""
