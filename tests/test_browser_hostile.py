"""Hostile documents and links in a real Chromium (hardening, second round): what a visitor's
browser shows and fetches, not what AppTest finds in the page's messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.settled import OBSERVER
from tests.conftest import CHROMIUM, HOSTILE_NAME, ROOT, hostile_store, settle, streamlit_server

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium absent")]
PAGES = re.findall(r'url_path="([\w-]+)"', (ROOT / "app.py").read_text(encoding="utf-8"))
CRACH, LOTISSEMENT = "21560046100010", "21560046100085"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile")
    store = hostile_store(folder)
    yield from streamlit_server(BUDGET_DATA_DIR=str(store.folder),
                                BUDGET_CACHE_DIR=str(folder / "cache"))


@pytest.fixture(scope="module")
def tab(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(OBSERVER)  # what settle() reads
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("path", PAGES)
def test_a_name_full_of_markdown_is_shown_never_rendered(hostile_server: str, tab: object,
                                                        path: str) -> None:
    fetched: list[str] = []
    tab.on("request", lambda request: fetched.append(request.url))
    tab.goto(f"{hostile_server}/{path}?siret={CRACH}&etape=CA&annee=2021"
             f"&cmp={CRACH},{LOTISSEMENT}&cmp_etape=CA&cmp_annee=2021&fiche=215600461")
    settle(tab)
    assert not tab.locator("[data-testid='stException']").count()
    # Nothing the document wrote became an image, a link or coloured text...
    assert tab.locator("img[src*='127.0.0.1:9'], a[href^='javascript']").count() == 0
    assert tab.locator("b", has_text="gras").count() == 0
    assert not [url for url in fetched if "127.0.0.1:9/" in url]
    # ... and where the page names the collectivité, it reads as the document wrote it.
    if path in ("explorer", "comprendre", "comparer"):
        assert HOSTILE_NAME in tab.inner_text("[data-testid='stMain']")


def test_a_name_full_of_markdown_in_the_search_results(hostile_server: str,
                                                      tab: object) -> None:
    """Accueil's search lists the budgets of Crach's SIREN by the names its documents give."""
    tab.goto(f"{hostile_server}/?q=215600461")
    settle(tab)
    assert tab.locator("img[src*='127.0.0.1:9'], a[href^='javascript']").count() == 0
    assert tab.locator("b", has_text="gras").count() == 0
    assert HOSTILE_NAME in tab.inner_text("[data-testid='stMain']")


def test_links_repeating_or_listing_too_many_budgets_open_in_the_browser(
        hostile_server: str, tab: object) -> None:
    tab.goto(f"{hostile_server}/comparer?cmp_etape=CA&cmp_annee=2021&cmp="
             + ",".join([CRACH] * 11 + [LOTISSEMENT] * 40))
    settle(tab)
    assert not tab.locator("[data-testid='stException']").count()
    # Each budget once: the page rewrote its link with the two it compares.
    assert f"cmp={CRACH}%2C{LOTISSEMENT}&" in tab.url
    assert "LOTISSEMENT LE BOCENO" in tab.inner_text("[data-testid='stMain']")
