"""Maps in a real Chromium at 1440×900 and 390×844: what a map draws, territory by territory,
is read from its paths (the aria-label each carries, what a screen reader says of it, and its
fill) and its legend, and compared with the raw data.

One server's national store holds three communes of the Aube (10) (`aube_national`: the real
OFGL rows of Les Abymes' budget principal moved to Troyes, Bar-sur-Aube and Romilly-sur-Seine);
the Aube's 431 communes are the shipped shapes (budget_core/data/geo/communes-10.geojson.gz).
Another's store holds the real Crach CA 2021 moved to a commune of the Pas-de-Calais.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from budget_core import maps
from budget_core.config import DEMO_DIR
from budget_core.formats import read_documents
from budget_core.store import Store
from tests.conftest import ARTIFACTS, CHROMIUM, TOTEM, settle, streamlit_server
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


# The legend of the first map of the page, left to right.
LEGEND = """() => [...document.querySelector('.vega-embed').querySelectorAll(
    '.role-legend-label text')].map(t => t.textContent.replaceAll('\\u202f', ' '))"""


@pytest.fixture(scope="module")
def one_commune_of_the_pas_de_calais(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real Crach CA 2021 as if Ablain-Saint-Nazaire (62001, SIREN 216200014) had
    published it: the one commune of the Pas-de-Calais, of the largest count in the shipped
    table, with a document."""
    folder = tmp_path_factory.mktemp("pas-de-calais")
    document = folder / "ablain.xml"
    document.write_text((TOTEM / "crach_principal_CA_2021.xml").read_text("iso-8859-1").replace(
        "21560046100010", "21620001400010"), "iso-8859-1")
    Store(folder / "store").add(read_documents(document))
    yield from streamlit_server(BUDGET_DATA_DIR=str(folder / "store"))


@pytest.mark.parametrize("size", list(SIZES))
def test_a_share_map_s_legend_says_each_step_of_a_small_highest_share(
        one_commune_of_the_pas_de_calais: str, page: object, size: str) -> None:
    """One commune of the Pas-de-Calais's 887 (the shipped table) has published: the
    Hauts-de-France's colours run to 1/887 = 0,11 %, in steps of 0,02 %, which the legend
    wrote to one decimal, « 0 % 0 % 0 % 0,1 % 0,1 % 0,1 % »."""
    table = pd.read_csv(resources.files("budget_core.data").joinpath("population.csv.gz"),
                        dtype=str, compression="gzip")
    communes = int(((table["kind"] == "commune") & (table["departement"] == "62")).sum())
    open_at(page, f"{one_commune_of_the_pas_de_calais}/publier?carte_etape=CA&carte_annee=2021"
                  "&carte_region=32&carte_departement=62", size)
    page.get_by_role("tab", name="Carte de publication").click()
    settle(page, rerun=False)
    said = page.evaluate(COMMUNES_DRAWN.replace("maps.at(-1)", "maps[0]"))
    assert [label for label, _ in said if "(62)" in label] == [
        f"Pas-de-Calais (62), communes : {100 / communes:.1f} %".replace(".", ",")]
    legend = page.evaluate(LEGEND)
    steps = [float(label.removesuffix(" %").replace(",", ".")) for label in legend]
    assert legend[0] == "0 %" and len(set(legend)) == len(legend) > 2, legend
    assert steps == sorted(steps) and steps[-1] <= 100 / communes, legend
