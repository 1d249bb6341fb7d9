"""The XML policy in Chromium: an XML document may load its XSLT stylesheet and the CSS
the transform links, and nothing else runs.

CSP treats an XSLT fetch as a script (script-src-elem), which is why XML_CSP carries
`script-src 'self'`; the control case shows Chromium blocking it without that.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from feeds.serve.headers import XML_CSP

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DOCUMENT = b"""<?xml version="1.0" encoding="utf-8"?>
<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>
<feed><title>Hello</title></feed>
"""
STYLESHEET = b"""<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="html"/>
  <xsl:template match="/feed">
    <html><head><link rel="stylesheet" href="/style.css"/></head>
    <body><h1 id="title"><xsl:value-of select="title"/></h1>
    <p id="inline" style="color: red">inline style must be blocked</p>
    <script>document.title = "inline script ran"</script></body></html>
  </xsl:template>
</xsl:stylesheet>
"""
FILES = {
    "/feed.xsl": ("text/xsl; charset=utf-8", STYLESHEET),
    "/style.css": ("text/css; charset=utf-8", b"h1 { color: rgb(0, 128, 0); }\n"),
}


@contextmanager
def xml_server(csp: str) -> Iterator[tuple[str, list[str]]]:
    """Serves DOCUMENT with `csp` plus its stylesheets; yields (url, paths fetched)."""
    fetched: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            if self.path == "/doc.xml":
                content_type, body, extra = "application/xml; charset=utf-8", DOCUMENT, csp
            elif self.path in FILES:
                (content_type, body), extra = FILES[self.path], ""
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            if extra:
                self.send_header("Content-Security-Policy", extra)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/doc.xml", fetched
    finally:
        server.shutdown()
        server.server_close()


def open_in_chromium(url: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_load_state("load")
            result: dict[str, Any] = page.evaluate(
                """() => {
                    const h1 = document.getElementById("title");
                    const p = document.getElementById("inline");
                    return {
                        transformed: h1 !== null,
                        h1Colour: h1 ? getComputedStyle(h1).color : null,
                        inlineColour: p ? getComputedStyle(p).color : null,
                        title: document.title,
                    };
                }"""
            )
            return result
        finally:
            browser.close()


@pytest.mark.slow
def test_the_xml_policy_lets_xslt_and_its_css_load_and_nothing_inline() -> None:
    with xml_server(XML_CSP) as (url, fetched):
        seen = open_in_chromium(url)
    assert "/feed.xsl" in fetched and "/style.css" in fetched
    assert seen["transformed"]
    assert seen["h1Colour"] == "rgb(0, 128, 0)"  # /style.css applied
    assert seen["inlineColour"] != "rgb(255, 0, 0)"  # inline style blocked
    assert seen["title"] != "inline script ran"  # inline script blocked


@pytest.mark.slow
def test_without_script_src_chromium_blocks_the_xslt() -> None:
    without = XML_CSP.replace(" script-src 'self';", "")
    assert "script-src" not in without
    with xml_server(without) as (url, fetched):
        seen = open_in_chromium(url)
    assert "/feed.xsl" not in fetched
    assert not seen["transformed"]
