"""Shared fixtures: the real documents of tests/fixtures (see fixtures/PROVENANCE.md), and the
browser tests' Streamlit server and Chromium, started once per test process (per xdist worker)
at their first use."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from bench.appserver import CHROMIUM, CHROMIUM_ARGS, NotStarted, streamlit_run
from bench.settled import OBSERVER, SETTLED
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
# Screenshots of every page at both sizes, kept by CI as artefacts; `python
# tools/readme_screenshots.py` copies the README's from there to docs/screenshots/.
ARTIFACTS = ROOT / "test-artifacts"


def streamlit_server(**settings: str) -> Iterator[str]:
    """`streamlit run app.py` on a free port of 127.0.0.1 with these BUDGET_* settings: its
    URL once it answers, the server stopped after; the test fails with the server's output
    when it does not start."""
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        try:
            url, _ = stack.enter_context(streamlit_run(
                ROOT / "app.py", cwd=ROOT, env={**os.environ, **settings},
                log=Path(folder) / "server.log"))
        except NotStarted as exc:
            pytest.fail(str(exc))
        yield url


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
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def browser_context(browser: object) -> Iterator[object]:
    """One context for the tabs of `page`: they share its HTTP cache, as one visitor's tabs do
    (Streamlit's scripts are not fetched again at each test)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    context.add_init_script(OBSERVER)
    # Streamlit keeps a sidebar collapsed or expanded by hand in localStorage, shared by the
    # context's tabs: a test at 1440 px that opened the sidebar left it open over the next
    # test's page at 390 px. Each page load starts from Streamlit's default (collapsed on a
    # phone, open on a desktop); within a test, navigation by the sidebar keeps the state.
    context.add_init_script(FORGET_SIDEBAR)
    yield context
    context.close()


FORGET_SIDEBAR = """for (const key of Object.keys(window.localStorage))
  if (key.startsWith("stSidebarCollapsed-")) window.localStorage.removeItem(key);"""


@pytest.fixture
def page(browser_context: object) -> Iterator[object]:
    """A tab of its own at 1400×1000, closed after the test."""
    tab = browser_context.new_page()
    yield tab
    tab.close()


SIZES = {"desktop": {"width": 1440, "height": 900}, "mobile": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest, page: object) -> str:
    """The test's tab at 1440×900, then at 390×844 (the test runs once at each size)."""
    page.set_viewport_size(SIZES[request.param])
    return str(request.param)


# Waits on what a fixed pause stood for, seen by bench/settled.py's observer in the page (each
# context that settles its pages adds OBSERVER as an init script): the script's run over and
# drawn. 60 s: the first page a fresh server runs, on a loaded 2-core machine, once took over 30.
SETTLE_TIMEOUT_MS = 60_000
QUIET_MS = 300  # no DOM change for that long: what is drawn after the script ended is drawn
# The last pointer-down or Enter since the previous settle (the input whose rerun to wait for);
# 0 on a page not settled yet (its first run, after a load); null when there was no input.
LAST_INPUT = """() => {
    const b = window.__bench, after = b.settled ?? -1;
    const inputs = b.inputs.filter((t) => t > after);
    return inputs.length ? inputs[inputs.length - 1] : (after < 0 ? 0 : null);
}"""
# No input to wait for (a resize, say): the app idle and the DOM quiet since `since`.
QUIET = """([since, quiet]) => {
    const b = window.__bench, app = document.querySelector("[data-testid='stApp']");
    return app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector("[data-testid='stSpinner']")
        && performance.now() - Math.max(b.lastMutation, since) > quiet;
}"""
# Every element is drawn: none still waits for its code (Streamlit loads the code of charts,
# tables... at their first use and shows a skeleton meanwhile: seconds on a loaded machine,
# without a DOM change), each Vega chart has its SVG (or canvas), each Plotly chart shown its
# .main-svg (Plotly draws one in another tab when it is opened).
DRAWN = """() => !document.querySelector("[data-testid='stSkeleton']")
    && [...document.querySelectorAll('.vega-embed')]
        .every((chart) => chart.querySelector('svg, canvas'))
    && [...document.querySelectorAll('.js-plotly-plot')]
        .filter((chart) => chart.getClientRects().length)
        .every((chart) => chart.querySelector('.main-svg'))"""
# Two animation frames: the last change is laid out and painted. Marks the page settled.
PAINTED = """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => {
    window.__bench.settled = performance.now();
    done(true);
})))"""


def settle(page: object, *, rerun: bool = True) -> None:
    """Wait until Streamlit has run the page's script (after a load, or for the rerun the last
    click or Enter since the previous settle started) and the page is drawn: the app reports
    `notRunning`, no spinner, every element drawn, no DOM change for QUIET_MS, then two frames
    painted. `rerun=False` after what the browser alone handles (a resize, a tab, an
    expander, the sidebar): only drawn and quiet since now."""
    since = page.evaluate(LAST_INPUT) if rerun else None
    if since is None:
        idle, arg = QUIET, [page.evaluate("performance.now()"), QUIET_MS]
    else:
        idle, arg = SETTLED, [since, QUIET_MS, False]
    page.wait_for_function(f"(arg) => ({idle})(arg) && ({DRAWN})()", arg=arg,
                           timeout=SETTLE_TIMEOUT_MS, polling=50)
    page.evaluate(PAINTED)
