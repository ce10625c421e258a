"""Shared fixtures: the real documents of tests/fixtures (see fixtures/PROVENANCE.md), and the
browser tests' Streamlit server and Chromium, started once per test process (per xdist worker)
at their first use."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from budget_core.config import DEMO_DIR
from budget_core.formats import read_documents
from budget_core.model import BudgetDocument
from budget_core.store import Store
from budget_core.totem import read_totem

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
TOTEM = FIXTURES / "totem"
TOTEM_FILES = sorted(TOTEM.glob("*.xml"))


@pytest.fixture(params=TOTEM_FILES, ids=lambda p: p.stem)
def totem_path(request: pytest.FixtureRequest) -> Path:
    return request.param


@functools.cache
def parsed(path: Path) -> BudgetDocument:
    """Each real document is parsed once per test run; tests must not modify the result."""
    return read_totem(path)


# The tests' portals run on 127.0.0.1, which the HTTP client refuses unless allowed (the one
# opt-in of SECURITY.md). Tests of that refusal unset it with monkeypatch.
os.environ.setdefault("BUDGET_ALLOWED_PRIVATE_HOSTS", "127.0.0.1,localhost")


# Markdown and HTML a collectivité name could carry: an outside image every visitor's browser
# would fetch, a javascript: link, Streamlit's coloured text, HTML.
HOSTILE_NAME = ("![p](http://127.0.0.1:9/t.png) [clic](javascript:alert(1)) :red[rouge] "
                "<b>gras</b>")
HOSTILE_RAW = ("![p](", "[clic](", ":red[", "<b>", "![n](")


def hostile_store(folder: Path) -> Store:
    """A store in `folder` holding the real Crach CA 2021 with HOSTILE_NAME as the
    collectivité's name and an image in its nomenclature, beside the real lotissement CA."""
    original = (TOTEM / "crach_principal_CA_2021.xml").read_text("iso-8859-1")
    hostile = folder / "hostile.xml"
    hostile.write_text(original.replace(
        '<LibelleColl V="CRACH"', '<LibelleColl V="' + HOSTILE_NAME.replace("<", "&lt;")
        .replace(">", "&gt;") + '"').replace(
        '<Nomenclature V="M14-', '<Nomenclature V="![n](http://127.0.0.1:9/n.png)-'),
        "iso-8859-1")
    store = Store(folder / "store")
    store.add(read_documents(hostile))
    store.add(read_documents(TOTEM / "crach_lotissement_CA_2021.xml"))
    return store


# -- browser tests (tests/test_browser*.py) ---------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
# Screenshots of every page at both sizes, kept by CI as artefacts; `python
# tools/readme_screenshots.py` copies the README's from there to docs/screenshots/.
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlit_server(**settings: str) -> Iterator[str]:
    """`streamlit run app.py` on a free port of 127.0.0.1 with these BUDGET_* settings: its
    URL once it answers, the server stopped after."""
    port = free_port()
    env = {**os.environ, **settings}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1",
         "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            process.kill()
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"streamlit did not start: {output}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


# Session-scoped: one server and one Chromium serve every browser test a worker runs, in any
# order and whatever module they come from (pytest-xdist spreads them over the workers).
@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The app on the demo data, with a small upload limit to test it with a real document."""
    yield from streamlit_server(BUDGET_DATA_DIR=str(DEMO_DIR), BUDGET_MAX_UPLOAD_MB="3")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def browser_context(browser: object) -> Iterator[object]:
    """One context for the tabs of `page`: they share its HTTP cache, as one visitor's tabs do
    (Streamlit's scripts are not fetched again at each test)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(browser_context: object) -> Iterator[object]:
    """A tab of its own at 1400×1000, closed after the test."""
    tab = browser_context.new_page()
    yield tab
    tab.close()


def settle(page: object) -> None:
    """Wait until Streamlit has finished running the page's script."""
    # 60 s: the first page a fresh server runs, on a loaded 2-core machine, once took over 30.
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    page.wait_for_timeout(500)
