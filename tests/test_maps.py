"""Maps named by codes (budget_core/maps.py): the pages pass codes and values and get a
Vega-Lite spec, its shapes in the spec and its values in a table of their own (the named
dataset `maps.VALUES`, joined to the shapes by code). The shapes are read here straight from
the shipped files, the values drawn from the raw data (the balances' CSV, the shipped COG
table), the French texts written by hand. That the browser draws those values, and redraws
them when only they change, is checked in Chromium (tests/test_browser.py)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from decimal import Decimal
from importlib import resources
from types import SimpleNamespace

import pyarrow as pa
import pytest
from streamlit import dataframe_util

from budget_core import coverage, maps
from tests.test_balance_peers import history_2024, real_by_chapter
from tests.test_balances import CHAMBERY, GRENOBLE, raw_rows

S = "\u202f"  # the narrow no-break space of French numbers


def shipped(name: str) -> dict:
    data = resources.files("budget_core.data.geo").joinpath(name).read_bytes()
    return json.loads(gzip.decompress(data))


def drawn(spec: dict) -> dict[str, object]:
    """The map's territories as drawn: code → the value joined to its shape."""
    values = {row["code"]: row["valeur"] for row in spec["datasets"][maps.VALUES]}
    return {f["properties"]["code"]: values[f["properties"]["code"]]
            for f in spec["data"]["values"]}


def texts(spec: dict) -> dict[str, str]:
    """The map's territories as its tooltip says them: code → text."""
    return {row["code"]: row["texte"] for row in spec["datasets"][maps.VALUES]}


def chapter_13_per_inhabitant() -> dict[str, float]:
    """Grenoble's and Chambéry's real income of chapter 13 over their 2024 populations, by
    département, from the raw CSV (1318: 680 305,58 €; 13462: 3 541,54 €)."""
    people = history_2024()
    amounts = {siren: float(amount) / people[siren]
               for (siren, direction, chapter), amount in real_by_chapter(raw_rows()).items()
               if (direction, chapter) == ("recette", "13")}
    return {"38": amounts[GRENOBLE[:9]], "73": amounts[CHAMBERY[:9]]}


def morbihan_communes() -> int:
    """Communes of the Morbihan in the shipped COG table, read with the csv module."""
    raw = resources.files("budget_core.data").joinpath("population.csv.gz").read_bytes()
    rows = csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8")))
    return sum(1 for row in rows if row["kind"] == "commune" and row["departement"] == "56")


def test_a_map_of_departements_draws_those_given_and_only_them() -> None:
    names = {f["properties"]["code"]: f["properties"]["nom"]
             for f in shipped("departements.geojson.gz")["features"]}
    assert names["56"] == "Morbihan" and names["29"] == "Finistère"
    spec = maps.departements({"56": 0.25, "29": 0.5}, "communes")
    assert drawn(spec) == {"56": 0.25, "29": 0.5}
    assert {f["properties"]["code"]: f["properties"]["nom"] for f in spec["data"]["values"]} \
        == {"56": "Morbihan", "29": "Finistère"}


def test_a_map_of_communes_draws_every_commune_of_its_departement() -> None:
    communes = [f["properties"]["code"] for f in shipped("communes-10.geojson.gz")["features"]]
    troyes = "10387"
    assert troyes in communes
    values = drawn(maps.communes("10", {troyes: 1.0}, "publié"))
    assert sorted(values) == sorted(communes)
    assert values[troyes] == 1.0
    assert [v for code, v in values.items() if code != troyes] == [None] * (len(communes) - 1)


def rounded(coordinates: list) -> list:
    """Shipped coordinates to 3 decimals of a degree: what a map draws."""
    if isinstance(coordinates[0], float | int):
        return [round(value, 3) for value in coordinates]
    return [rounded(part) for part in coordinates]


def positions(coordinates: list) -> list[list[float]]:
    if isinstance(coordinates[0], float | int):
        return [coordinates]
    return [p for part in coordinates for p in positions(part)]


def test_a_map_draws_the_shipped_geometry_of_each_territory_to_a_quarter_of_a_pixel() -> None:
    shipped_geometry = {f["properties"]["code"]: f["geometry"]
                        for f in shipped("departements.geojson.gz")["features"]}
    spec = maps.departements(chapter_13_per_inhabitant(), "€ par habitant", share=False)
    drawn_geometry = {f["properties"]["code"]: f["geometry"] for f in spec["data"]["values"]}
    assert set(drawn_geometry) == {"38", "73"}
    for code, geometry in drawn_geometry.items():
        original = shipped_geometry[code]
        assert geometry["type"] == original["type"]
        pairs = list(zip(positions(geometry["coordinates"]),
                         positions(original["coordinates"]), strict=True))
        assert len(pairs) > 100  # every point kept
        assert max(abs(a - b) for p, q in pairs for a, b in zip(p, q, strict=True)) <= 0.0005
    assert spec["mark"]["type"] == "geoshape" and spec["height"] == 520
    # Less than half the JSON of the shipped shapes, for every département of the map.
    everywhere = maps.departements(dict.fromkeys(shipped_geometry, 1.0), "€", share=False)
    assert len(json.dumps(everywhere["data"])) < 0.45 * len(json.dumps(
        shipped("departements.geojson.gz")["features"]))


def test_an_amounts_map_draws_each_departement_s_value_per_inhabitant() -> None:
    spec = maps.departements(chapter_13_per_inhabitant(), "€ par habitant", share=False)
    assert drawn(spec) == pytest.approx({"38": 680_305.58 / 159_738, "73": 3_541.54 / 61_411})
    assert texts(spec) == {"38": f"4,26{S}€", "73": f"0,06{S}€"}
    assert "title" not in spec  # written above the map by the page
    # The legend says what grey is: a territory without a value (`maps.NO_VALUE`).
    assert spec["encoding"]["color"]["title"] == "€ par habitant (en gris : sans valeur)"
    assert spec["encoding"]["color"]["scale"] == {"scheme": "blues"}  # Vega's own domain


def test_a_share_map_s_colours_run_from_zero_to_the_highest_share_of_its_values() -> None:
    # Crach is the one commune of the Morbihan whose CA 2021 is in the demo data.
    share = 1 / morbihan_communes()
    assert morbihan_communes() == 249
    spec = maps.departements({"56": share, "29": 0.0}, "communes")
    assert drawn(spec) == {"56": share, "29": 0.0}
    assert texts(spec) == {"56": f"0,4{S}%", "29": f"0,0{S}%"}
    # 0,4 % among 0 % would be as pale as 0 % on a 0–100 % scale. Vega reads the highest
    # share from the values themselves (the browser test sees the legend end at 0,4 %), so
    # that a map whose values change keeps its spec.
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domainMin"] == 0
    assert scale["domainMax"] == {"expr": f"extent(pluck(data('{maps.VALUES}'), 'valeur'))[1] "
                                          "|| 1"}  # nobody: 0 to 100 %


def said(spec: dict, code: str) -> str:
    """What a screen reader hears of a territory: the map's `description` expression for its
    shape and its row of values, evaluated as Python, whose string literals (quotes and
    escapes as JSON writes them) and `+` read as Vega's (JavaScript's) do."""
    [feature] = [f for f in spec["data"]["values"] if f["properties"]["code"] == code]
    [row] = [r for r in spec["datasets"][maps.VALUES] if r["code"] == code]
    [expression] = [t["calculate"] for t in spec["transform"] if t.get("as") == "description"]
    datum = SimpleNamespace(properties=SimpleNamespace(**feature["properties"]), **row)
    return eval(expression, {"__builtins__": {}}, {"datum": datum})


@pytest.mark.parametrize("legend", ["communes", "l'an", 'dit "oui"', "a\\b", "a\\'b"])
def test_a_screen_reader_hears_each_territory_with_the_legend_as_written(legend: str) -> None:
    """A backslash in the legend was read as an escape (« a\\b » said « a », a backspace),
    and « a\\'b » ended Vega's string: the map was not drawn at all."""
    spec = maps.departements({"56": 0.5, "29": None}, legend)
    assert said(spec, "56") == f"Morbihan (56), {legend} : 50,0{S}%"
    assert said(spec, "29") == f"Finistère (29), {legend} : —"


def test_exact_amounts_are_shipped_to_the_browser_as_numbers() -> None:
    """Amounts in Decimal (the app's money), as Streamlit ships a map's values (Arrow): the
    browser read an Arrow decimal as its unscaled integer, and coloured 12,34 € as 1 234 €
    (a legend from 0 to « 1 k€ ») while the tooltip, made here, said 12,34 €."""
    spec = maps.departements({"56": Decimal("12.34"), "29": Decimal("-3.00"), "22": None},
                             "€ par habitant", share=False)
    shipped_values = pa.ipc.open_stream(dataframe_util.convert_anything_to_arrow_bytes(
        spec["datasets"][maps.VALUES])).read_all()
    assert shipped_values.schema.field("valeur").type == pa.float64()
    assert dict(zip(shipped_values["code"].to_pylist(), shipped_values["valeur"].to_pylist(),
                    strict=True)) == {"22": None, "29": -3.0, "56": 12.34}
    assert texts(spec) == {"22": "—", "29": f"-3,00{S}€", "56": f"12,34{S}€"}


def test_maps_of_other_values_share_one_spec() -> None:
    """Only the values differ between two maps of the same territories: Streamlit's browser
    then swaps the values of the map drawn instead of drawing it anew. A map made after
    another leaves the first as it was."""
    first = maps.communes("10", {"10387": 1.0}, "publié")
    kept = json.dumps(first)
    second = maps.communes("10", {"10033": 0.25}, "publié")
    assert json.dumps(first) == kept
    assert drawn(second)["10387"] is None and drawn(first)["10387"] == 1.0
    without_values = [{key: value for key, value in spec.items() if key != "datasets"}
                      for spec in (first, second)]
    assert json.dumps(without_values[0]) == json.dumps(without_values[1])
    aube, marne = (maps.departements({code: 0.5}, "communes") for code in ("10", "51"))
    assert aube["data"] != marne["data"]  # other territories: another spec


def with_shipped_shapes_rounded(features: list[dict]) -> dict:
    return {"features": [{**f, "geometry": {**f["geometry"], "coordinates": rounded(
        f["geometry"]["coordinates"])}} for f in features]}


@pytest.mark.parametrize("share", [True, False])
def test_a_map_is_the_spec_altair_makes_for_the_same_values(share: bool) -> None:
    """What Altair itself gives for those shapes and values (1 to 6 s for a map), in
    milliseconds."""
    values = {"51454": 0.5, "51108": 0.125} if share else {"51454": 1234.56, "51108": 0.0}
    legend = "publié" if share else "€ par habitant"
    marne = with_shipped_shapes_rounded(shipped("communes-51.geojson.gz")["features"])
    assert maps.communes("51", values, legend, share=share) == maps.choropleth(
        marne, values, legend, share=share).to_dict()
    france = {"38": 12.5, "2A": 0.75}
    features = with_shipped_shapes_rounded(
        [f for f in shipped("departements.geojson.gz")["features"]
         if f["properties"]["code"] in france])
    assert maps.departements(france, legend, share=share) == maps.choropleth(
        features, france, legend, share=share).to_dict()


def test_the_map_of_departements_holds_metropolitan_france_only() -> None:
    codes = {f["properties"]["code"] for f in shipped("departements.geojson.gz")["features"]}
    assert coverage.departements_with_shapes() == codes
    assert {"2A", "2B", "29", "95"} <= codes
    assert not codes & {"971", "972", "973", "974", "976"}  # overseas: no shapes shipped
