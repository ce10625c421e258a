"""Who has published: communes of a département, départements of a région, by stage and year.

The reference list of communes (and their population) is the shipped COG extract
(`population.py`); a commune has published when the store holds a document of its budget
principal for that stage and year. Maps use shipped GeoJSON (IGN Admin Express via
gregoiredavid/france-geojson, COG 2018): départements of France, communes of Grand Est. The
régions and their names come from the same COG extract (`data/geo/regions.json`).
"""

from __future__ import annotations

import functools
import gzip
import json
import unicodedata
from importlib import resources
from typing import Any

import pandas as pd

from budget_core.population import table

GEO = "budget_core.data.geo"


def _published_sirens(catalogue: pd.DataFrame, stage: str, year: int) -> set[str]:
    done = catalogue[(catalogue["stage"] == stage) & (catalogue["year"] == year)
                     & (catalogue["budget_kind"] == "principal")]
    return set(done["siren"])


def commune_coverage(catalogue: pd.DataFrame, departement: str, stage: str,
                     year: int) -> pd.DataFrame:
    """Every commune of the département, with `published` for that stage and year."""
    communes = table()
    communes = communes[(communes["kind"] == "commune")
                        & (communes["departement"] == departement)].copy()
    communes["published"] = communes["siren"].isin(_published_sirens(catalogue, stage, year))
    return communes[["insee", "siren", "name", "population", "published"]].sort_values(
        ["published", "population"], ascending=[False, False], ignore_index=True)


def departement_coverage(catalogue: pd.DataFrame, stage: str, year: int,
                         region: str | None = None) -> pd.DataFrame:
    """Share of communes of each département (of a région) that have published."""
    communes = table()
    communes = communes[communes["kind"] == "commune"].copy()
    if region:
        communes = communes[communes["region"] == region]
    communes["published"] = communes["siren"].isin(_published_sirens(catalogue, stage, year))
    out = communes.groupby("departement").agg(communes=("siren", "size"),
                                              published=("published", "sum")).reset_index()
    out["share"] = out["published"] / out["communes"]
    return out


def busiest(catalogue: pd.DataFrame) -> dict[str, Any] | None:
    """Where a publication map shows something: the latest year, then the stage, région and
    département with the most communes published (`stage`, `year`, `region`,
    `departement`); None when no commune's budget principal is loaded."""
    communes = table()
    communes = communes[communes["kind"] == "commune"][["siren", "departement", "region"]]
    done = catalogue[catalogue["budget_kind"] == "principal"].merge(communes, on="siren")
    if done.empty:
        return None
    counts = done.groupby(["year", "stage", "region", "departement"])["siren"].nunique()
    best = counts.reset_index().sort_values(["year", "siren", "stage", "departement"],
                                            ascending=[False, False, True, True]).iloc[0]
    return {"stage": str(best["stage"]), "year": int(best["year"]),
            "region": str(best["region"]), "departement": str(best["departement"])}


def summary(frame: pd.DataFrame) -> tuple[int, int, float]:
    """(published, total, share) of a commune_coverage frame."""
    total = len(frame)
    published = int(frame["published"].sum())
    return published, total, published / total if total else 0.0


@functools.cache
def _geojson(name: str) -> dict[str, Any]:
    data = resources.files(GEO).joinpath(name).read_bytes()
    return json.loads(gzip.decompress(data))


def regions() -> dict[str, str]:
    """The 18 régions, INSEE code → name, in alphabetical order (« Île-de-France » among
    the I's)."""
    entries = json.loads(resources.files(GEO).joinpath("regions.json").read_text(
        encoding="utf-8"))
    return {entry["code"]: entry["nom"] for entry in sorted(
        entries, key=lambda entry: unicodedata.normalize("NFD", entry["nom"]))}


def commune_map_departements() -> list[str]:
    """Départements whose communes' shapes are shipped (Grand Est)."""
    return sorted(entry.name.split("-")[1].split(".")[0]
                  for entry in resources.files(GEO).iterdir()
                  if entry.name.startswith("communes-"))


def departements_with_shapes() -> frozenset[str]:
    """Départements the embedded map of départements holds: metropolitan France only, so the
    overseas régions (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte) have no map."""
    return frozenset(feature["properties"]["code"]
                     for feature in departements_shapes()["features"])


def communes_shapes(departement: str) -> dict[str, Any]:
    return _geojson(f"communes-{departement}.geojson.gz")


def departements_shapes() -> dict[str, Any]:
    return _geojson("departements.geojson.gz")
