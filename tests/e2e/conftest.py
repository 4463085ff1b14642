"""End-to-end fixtures: one Debian Chromium for the whole test session.

Never `playwright install`: it downloads a browser; Debian's chromium is set up by setup.sh.
`make test` runs two pytest-xdist workers with `--dist loadscope`: a module runs whole on one
worker, so its network of node processes or its served apps are built once. No test relies on
another having run before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--headless=new",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `bash scripts/setup.sh` (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored), kept after the run for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh context (cookies, storage) and page per test, Japanese locale."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(60_000)  # a limit for a loaded machine, not a speed target
    try:
        yield p
    finally:
        context.close()
