"""The DGFiP balances in a real Chromium at 1440×900 and 390×844: the pages a balance-derived
CA reaches read right (no English, French numbers, contrast, bars that show), and Données
imports an export through the browser's file input.

The server's cache holds the 20 real rows of tests/fixtures/balances/ (2024: Grenoble,
Chambéry, Annecy, Lyon), imported before it starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from budget_core.balances import BalanceStore
from budget_core.config import DEMO_DIR
from tests.conftest import ARTIFACTS, CHROMIUM, settle, streamlit_server
from tests.test_balances import CHAMBERY, GRENOBLE, SAMPLE
from tests.test_browser import SIZES, VISIBLE_TEXT, full_screenshot, open_at, reads_right

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium absent")]
GRENOBLE_CA = f"dgfip_{GRENOBLE}_2024"
# Each page, and the number of « … par chapitre » bar charts it draws.
PAGES = {
    "accueil-balance": ("?q=grenoble", 0),
    "explorer-balance": (f"explorer?siret={GRENOBLE}&etape=CA&annee=2024&doc={GRENOBLE_CA}",
                         1),  # Grenoble has no real spending in the sample: one chart drawn
    "comparer-balance": (f"comparer?cmp_etape=CA&cmp_annee=2024&cmp={GRENOBLE},{CHAMBERY}",
                         1),
    "se-comparer-chapitres": ("se-comparer?mode=chapitres&chap_siren=213801855"
                              "&chap_sens=Recettes&chap_pairs=region", 0),
    "donnees-balances": ("donnees", 0),
}

# The sample's budgets hold one or two real chapters: a chapter bar chart is one step per
# chapter (charts.chapter_bars), and so is the chapter placement (charts.chapter_peers: a step
# per row keeps its spec when the commune changes), so a plot is about 66 px tall with a
# single chapter.
PLOT_HEIGHT = {"explorer-balance": 60, "comparer-balance": 60, "se-comparer-chapitres": 60}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cache = tmp_path_factory.mktemp("balances-cache")
    with BalanceStore(cache / "balances") as store:
        store.import_csv(SAMPLE, "communes")
    yield from streamlit_server(BUDGET_DATA_DIR=str(DEMO_DIR), BUDGET_CACHE_DIR=str(cache))


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(PAGES))
def test_what_users_see_of_the_balances(server: str, page: object, name: str,
                                        size: str) -> None:
    path, bar_charts = PAGES[name]
    least = PLOT_HEIGHT.get(name, 100)

    def plot_ok(width: float, height: float) -> bool:
        if name == "explorer-balance" and (width, height) == (0, 0):
            return True  # Grenoble's sample rows hold no real spending: an empty chart
        return width >= 100 and height >= least

    open_at(page, f"{server}/{path}", size)
    text = reads_right(page, f"{name}_{size}", bar_charts, plot_ok)
    if name != "donnees-balances":
        assert "comptes de gestion DGFiP" in text


def test_the_chapter_placement_shows_rank_and_the_commune(server: str, page: object) -> None:
    open_at(page, f"{server}/{PAGES['se-comparer-chapitres'][0]}", "390x844")
    page.wait_for_selector(".vega-embed svg", timeout=30_000)
    labels = page.evaluate("() => [...document.querySelectorAll('.vega-embed svg text')]"
                           ".map(t => t.textContent)")
    assert "1re sur 2" in labels, labels
    assert any(label.startswith("13 — Subventions") for label in labels)
    # The commune's point and the median's diamond are drawn inside the plot.
    points = page.evaluate("() => [...document.querySelectorAll('.vega-embed')][0]"
                           ".querySelectorAll('g.mark-symbol.role-mark path').length")
    assert points == 2


def test_another_commune_is_drawn_in_the_vega_view_already_there(server: str,
                                                                   page: object) -> None:
    """« Commune » from Grenoble to Chambéry: the chart's spec is the same, so Streamlit puts
    Chambéry's rows into the Vega view it has (the same SVG element, marked before the change)
    and its rank is drawn at once: 3 541,54 € of chapter 13 for 61 411 inhabitants, against
    Grenoble's 680 305,58 € for 159 738, is the second of the two."""
    open_at(page, f"{server}/{PAGES['se-comparer-chapitres'][0]}", "1440x900")
    page.wait_for_selector(".vega-embed svg", timeout=30_000)
    page.evaluate("() => { document.querySelector('.vega-embed svg').dataset.before = 'oui'; }")
    page.locator("[data-testid='stSelectbox']").filter(has_text="Commune").click()
    page.get_by_role("option", name="CHAMBERY (73065)").click()
    settle(page)
    assert "Recettes réelles : CHAMBERY (73065) parmi « même région »" in page.evaluate(
        VISIBLE_TEXT)
    labels = page.evaluate("() => [...document.querySelector('.vega-embed')"
                           ".querySelectorAll('svg text')].map(t => t.textContent)")
    assert "2e sur 2" in labels and "1re sur 2" not in labels, labels
    assert page.evaluate("() => document.querySelector('.vega-embed svg').dataset.before") \
        == "oui"
    points = page.evaluate("() => [...document.querySelectorAll('.vega-embed')][0]"
                           ".querySelectorAll('g.mark-symbol.role-mark path').length")
    assert points == 2


def test_an_export_is_imported_from_the_browser(server: str, page: object) -> None:
    open_at(page, f"{server}/donnees", "1440x900")
    page.get_by_text("Importer un export déjà téléchargé").click()
    settle(page)
    page.locator("input[type='file']").nth(1).set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Importer").wait_for(timeout=30_000)
    page.get_by_role("button", name="Importer").click()
    done = page.locator("[data-testid='stAlert']").filter(has_text="20 lignes de balance")
    done.wait_for(timeout=60_000)
    settle(page)
    assert "Balances en cache : communes 2024." in page.evaluate(VISIBLE_TEXT)
    full_screenshot(page, ARTIFACTS / "donnees-balances-import_1440x900.png")
