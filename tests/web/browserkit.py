"""Debian's headless Chromium driven by Playwright for the browser tests of the web console.

Playwright's own browser download cannot work here (nothing is fetched at test time): the
system's /usr/bin/chromium is launched instead, and its network is kept to 127.0.0.1. A missing
Chromium fails the test that needs it, naming the package to install.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Any host name but the console's address fails to resolve: nothing leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# A loaded 2-core machine can take seconds for a first paint: wait that long, not forever.
ACTION_TIMEOUT_MS = 30_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@contextmanager
def launched_chromium(executable: Path = CHROMIUM) -> Iterator[Browser]:
    """Headless `executable` under Playwright until the block ends; fails the test if absent."""
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        pytest.fail(
            f"{executable} is missing: the browser tests need Debian's Chromium "
            "(apt-get install chromium; .ci/run installs it when missing)",
            pytrace=False,
        )
    # Playwright's assertions retry for 5 s by default: too short on a loaded machine.
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, timeout=120_000
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_tab(browser: Browser, base_url: str) -> Iterator[Page]:
    """A tab in a fresh context (no cookies) whose relative URLs resolve against `base_url`.
    When the block ends without error, fails if a page requested a host other than 127.0.0.1
    or raised a script error."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    foreign: list[str] = []
    script_errors: list[str] = []

    def note_foreign(request: Request) -> None:
        if urlsplit(request.url).hostname != "127.0.0.1":
            foreign.append(request.url)

    context.on("request", note_foreign)
    try:
        tab = context.new_page()
        tab.on("pageerror", lambda error: script_errors.append(str(error)))
        yield tab
    finally:
        context.close()
    assert foreign == [], "pages requested addresses outside 127.0.0.1"
    assert script_errors == []


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of the PNG at `path`; AssertionError when it is not one."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path} has no PNG header chunk"
    width, height = struct.unpack(">II", head[16:24])
    return width, height
