"""Maps in a real Chromium at 1440×900 and 390×844: what a map draws, territory by territory,
is read from its paths (the aria-label each carries, what a screen reader says of it, and its
fill) and compared with the raw export.

The server's national store holds three communes of the Aube (10) (`aube_national`: the real
OFGL rows of Les Abymes' budget principal moved to Troyes, Bar-sur-Aube and Romilly-sur-Seine);
the Aube's 431 communes are the shipped shapes (budget_core/data/geo/communes-10.geojson.gz).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from budget_core import maps
from budget_core.config import DEMO_DIR
from tests.conftest import ARTIFACTS, CHROMIUM, streamlit_server
from tests.test_app import AUBE, aube_national
from tests.test_browser import SIZES, full_screenshot, open_at
from tests.test_maps import shipped

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium absent")]

# Each territory of the map of communes (the last map of the page): what it says, its fill.
COMMUNES_DRAWN = """() => {
    const maps = [...document.querySelectorAll('.vega-embed')].filter(
        map => map.querySelector('path[aria-label]'));
    return [...maps.at(-1).querySelectorAll('path[aria-label]')].map(
        path => [path.getAttribute('aria-label').replaceAll('\\u202f', ' '),
                 path.getAttribute('fill')]); }"""


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, pd.DataFrame]]:
    """The server, and the raw rows each of the three communes was given."""
    folder = tmp_path_factory.mktemp("national") / "national"
    rows = aube_national(folder)
    for url in streamlit_server(BUDGET_DATA_DIR=str(DEMO_DIR), BUDGET_NATIONAL_DIR=str(folder)):
        yield url, rows


@pytest.mark.parametrize("size", list(SIZES))
def test_a_map_of_communes_draws_those_without_a_value_too(
        national: tuple[str, pd.DataFrame], page: object, size: str) -> None:
    """The map of the Aube's communes on « Se comparer » draws all 431, not the three that
    have a value: Vega-Lite leaves out a shape whose colour field is empty, and the map then
    showed three communes floating in white, framed as if they were the département. The
    others are grey and said « — »."""
    server, rows = national
    [raw] = rows.loc[(rows["Agrégat"] == "Epargne brute") & (rows["Exercice"] == "2024"),
                     "Montant en € par habitant"]  # the export's text: 60.13184649906819
    open_at(page, f"{server}/se-comparer?mode=agregats&niveau=communes"
                  f"&siren_national={AUBE['10387']}&agregat=Epargne+brute", size)
    drawn = page.evaluate(COMMUNES_DRAWN)
    names = {f["properties"]["code"]: f["properties"]["nom"]
             for f in shipped("communes-10.geojson.gz")["features"]}
    assert len(drawn) == len(names) == 431
    # The export's own « Montant en € par habitant », to the cent as the map says it.
    cents = f"{float(raw):.2f}".replace(".", ",")
    said = {f"{names[code]} ({code}), € par habitant : {cents} €" for code in AUBE}
    valued = [(label, fill) for label, fill in drawn if not label.endswith(": —")]
    assert {label for label, _ in valued} == said
    assert all(fill != maps.NO_VALUE for _, fill in valued)
    assert {fill for label, fill in drawn if label.endswith(": —")} == {maps.NO_VALUE}
    full_screenshot(page, ARTIFACTS / f"se-comparer-carte-communes_{size}.png")
