"""Maps named by codes (budget_core/maps.py): the pages pass codes and values, the shapes
come from the embedded GeoJSON, read here straight from the shipped files."""

from __future__ import annotations

import gzip
import json
from importlib import resources

from budget_core import coverage, maps


def shipped(name: str) -> dict:
    data = resources.files("budget_core.data.geo").joinpath(name).read_bytes()
    return json.loads(gzip.decompress(data))


def drawn(chart: object) -> dict[str, object]:
    """The map's features as drawn: code → the value it carries."""
    spec = chart.to_dict()  # type: ignore[attr-defined]
    return {f["properties"]["code"]: f["properties"]["valeur"] for f in spec["data"]["values"]}


def test_a_map_of_departements_draws_those_given_and_only_them() -> None:
    names = {f["properties"]["code"]: f["properties"]["nom"]
             for f in shipped("departements.geojson.gz")["features"]}
    assert names["56"] == "Morbihan" and names["29"] == "Finistère"
    chart = maps.departements({"56": 0.25, "29": 0.5}, "Publication", "communes")
    assert drawn(chart) == {"56": 0.25, "29": 0.5}


def test_a_map_of_communes_draws_every_commune_of_its_departement() -> None:
    communes = [f["properties"]["code"] for f in shipped("communes-10.geojson.gz")["features"]]
    troyes = "10387"
    assert troyes in communes
    chart = maps.communes("10", {troyes: 1.0}, "Aube", "publié")
    values = drawn(chart)
    assert sorted(values) == sorted(communes)
    assert values[troyes] == 1.0
    assert [v for code, v in values.items() if code != troyes] == [None] * (len(communes) - 1)


def test_the_map_of_departements_holds_metropolitan_france_only() -> None:
    codes = {f["properties"]["code"] for f in shipped("departements.geojson.gz")["features"]}
    assert coverage.departements_with_shapes() == codes
    assert {"2A", "2B", "29", "95"} <= codes
    assert not codes & {"971", "972", "973", "974", "976"}  # overseas: no shapes shipped
