"""Population of communes and EPCI, to express amounts per inhabitant.

Source: population municipale (INSEE populations légales) as shipped with the 2026 Code officiel
géographique by @etalab/decoupage-administratif 6.0.0 (its README: « Année 2026 », sources
COG + « Population légale » INSEE), shipped here as `data/population.csv.gz`
(built by `tools/build_population.py`). That is the population légale millésime 2023 (census
reference year), in force from 1 January 2026 (the package's source page, INSEE
statistiques/8680726).

Per inhabitant, a budget divides by the population of its own year: the document's (PopTot)
when it states one, else the population totale légale in force that year
(`data/population_history.csv.gz`, years 2022 to 2026: millésimes 2019 to 2023, built by
`tools/build_population_history.py` from the INSEE tables the package was built from over
the years), else the one above, whatever its year (then said so).
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

SOURCE = ("population municipale, populations légales INSEE diffusées avec le Code officiel "
          "géographique 2026 (paquet @etalab/decoupage-administratif 6.0.0)")


@functools.cache
def table() -> pd.DataFrame:
    path = resources.files("budget_core.data").joinpath("population.csv.gz")
    with resources.as_file(path) as file:
        return pd.read_csv(file, dtype={"siren": str, "insee": str, "departement": str,
                                        "region": str, "fiscal_regime": str},
                           compression="gzip")


@functools.cache
def _latest() -> dict[str, int]:
    """The population of the first row of each SIREN that has one on that row. A dict of
    text to numbers: read once, not at each budget of each rerun (Évolution asked for eight
    budgets, each deduplicating the whole table), and never walked by the garbage collector."""
    first = table().drop_duplicates("siren").dropna(subset=["population"])
    return dict(zip(first["siren"].tolist(), first["population"].astype("int64").tolist(),
                    strict=True))


def by_siren(sirens: list[str]) -> dict[str, int | None]:
    """Population of each SIREN; None when the source has none (département, syndicat...)."""
    latest = _latest()
    return {s: latest.get(s) for s in sirens}


def regions_by_siren() -> dict[str, str]:
    """Région (INSEE code) of each commune's SIREN: what a sync filter by région can use."""
    communes = table()[table()["kind"] == "commune"].dropna(subset=["region"])
    return dict(zip(communes["siren"], communes["region"], strict=True))


def fiscal_regimes() -> dict[str, str]:
    """Fiscal regime (FPU, FA, FPZ...) of each EPCI à fiscalité propre, by SIREN."""
    epci = table()[table()["kind"] == "epci"].dropna(subset=["fiscal_regime"])
    return dict(zip(epci["siren"], epci["fiscal_regime"], strict=True))


@functools.cache
def history() -> dict[int, dict[str, int]]:
    """Population totale légale of each commune (by SIREN) in force in each year."""
    path = resources.files("budget_core.data").joinpath("population_history.csv.gz")
    with resources.as_file(path) as file:
        frame = pd.read_csv(file, dtype={"siren": str, "insee": str}, compression="gzip")
    frame = frame.set_index("siren").drop(columns="insee")
    return {int(year): {str(siren): int(value) for siren, value in frame[year].dropna().items()}
            for year in frame.columns}


def in_force(siren: str, year: int) -> int | None:
    """The population totale légale of a commune in force in `year`; None when not shipped
    (another year, not a commune, or a commune whose territory changed since)."""
    return history().get(year, {}).get(siren)


@dataclass(frozen=True)
class Population:
    """A population and where it comes from, so a page can say which one it divides by."""

    value: int | None
    source: str  # "document", "insee_year", "insee" or "" (none known)
    year: int | None = None  # the year in force, for "insee_year"

    def french(self) -> str:
        if self.source == "document":
            return "population totale indiquée par le document (InformationsGenerales, PopTot)"
        if self.source == "insee_year" and self.year:
            return (f"population totale légale en vigueur en {self.year} (INSEE, recensement "
                    f"millésime {self.year - 3})")
        if self.source == "insee":
            return SOURCE
        return "population inconnue"


def of_document(siren: str, stated: object, year: int | None = None) -> Population:
    """The population of a budget's year: the document's own (PopTot) when it states one,
    else the INSEE population légale in force in `year` when shipped, else the latest shipped
    (whatever its year: say so). `stated` is the catalogue's `population` cell (None or <NA>
    when the document gives none)."""
    # numbers.Real: a cell read with `.iloc` is a numpy integer, not an int (it was ignored,
    # the INSEE figure used instead); a bool is no population; inf none either.
    if isinstance(stated, numbers.Real) and not isinstance(stated, bool):
        value = float(stated)
        if math.isfinite(value) and value > 0:
            return Population(int(value), "document")
    legal = in_force(siren, year) if year is not None else None
    if legal:
        return Population(legal, "insee_year", year)
    known = by_siren([siren])[siren]
    return Population(known, "insee" if known else "")


# Population bands of communes (the strates of the DGFiP « comptes individuels »): the upper
# bound, excluded, of every band but the last (under 100 inhabitants … 100 000 and more).
STRATE_BOUNDS = (100, 200, 500, 2_000, 3_500, 5_000, 10_000, 20_000, 50_000, 100_000)


def commune_strates() -> pd.DataFrame:
    """`siren`, `population` and `strate` of every commune whose population is known."""
    communes = table()[(table()["kind"] == "commune")].dropna(subset=["population"])
    population = communes["population"].astype("int64")
    return pd.DataFrame({"siren": communes["siren"].to_numpy(), "population": population,
                         "strate": strates_of(population)})


def population_by_year() -> pd.DataFrame:
    """`siren`, `year`, `population` and `strate` of every commune in each year the history
    holds (the population totale légale in force that year): per inhabitant, a year's
    accounts divide by that year's population."""
    frames = [pd.DataFrame({"siren": list(people), "year": year,
                            "population": list(people.values())})
              for year, people in history().items()]
    frame = pd.concat(frames, ignore_index=True).astype({"year": "int16",
                                                        "population": "int64"})
    return frame.assign(strate=strates_of(frame["population"]))


def strates_of(populations: pd.Series) -> np.ndarray:
    """The band of each population: 0 (under 100 inhabitants) to 10 (100 000 and more)."""
    return np.searchsorted(STRATE_BOUNDS, populations.to_numpy(), side="right")
