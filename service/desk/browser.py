"""Debian's chromium driven by Playwright (the system browser; never `playwright install`).

Used by the desk's end-to-end test and by `make desk-demo` for screenshots; Playwright is a
development dependency and is imported only when a page is opened.
"""

from __future__ import annotations

from contextlib import contextmanager

from service.desk.chromium import FLAGS, chromium_binary


@contextmanager
def browser_page(width: int = 1366, height: int = 900, locale: str = "id-ID"):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_binary(),
            headless=True,
            args=[f for f in FLAGS if f != "--headless"] + ["--lang=id"],
        )
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale=locale, accept_downloads=True
            )
            yield context.new_page()
        finally:
            browser.close()
