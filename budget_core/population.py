"""Population of communes and EPCI, to express amounts per inhabitant.

Source: population municipale (INSEE populations légales) as shipped with the 2026 Code officiel
géographique by @etalab/decoupage-administratif 6.0.0 (its README: « Année 2026 », sources
COG + « Population légale » INSEE), shipped here as `data/population.csv.gz`
(built by `tools/build_population.py`).
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from importlib import resources

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


def by_siren(sirens: list[str]) -> dict[str, int | None]:
    """Population of each SIREN; None when the source has none (département, syndicat...)."""
    known = table().drop_duplicates("siren").set_index("siren")["population"]
    return {s: int(known[s]) if s in known.index and pd.notna(known[s]) else None
            for s in sirens}


def regions_by_siren() -> dict[str, str]:
    """Région (INSEE code) of each commune's SIREN: what a sync filter by région can use."""
    communes = table()[table()["kind"] == "commune"].dropna(subset=["region"])
    return dict(zip(communes["siren"], communes["region"], strict=True))


def fiscal_regimes() -> dict[str, str]:
    """Fiscal regime (FPU, FA, FPZ...) of each EPCI à fiscalité propre, by SIREN."""
    epci = table()[table()["kind"] == "epci"].dropna(subset=["fiscal_regime"])
    return dict(zip(epci["siren"], epci["fiscal_regime"], strict=True))


@dataclass(frozen=True)
class Population:
    """A population and where it comes from, so a page can say which one it divides by."""

    value: int | None
    source: str  # "document", "insee" or "" (none known)

    def french(self) -> str:
        if self.source == "document":
            return "population totale indiquée par le document (InformationsGenerales, PopTot)"
        if self.source == "insee":
            return SOURCE
        return "population inconnue"


def of_document(siren: str, stated: object) -> Population:
    """The population of a budget's year: the document's own (PopTot) when it states one,
    else the INSEE population légale shipped (whatever its year: say so). `stated` is the
    catalogue's `population` cell (None or <NA> when the document gives none)."""
    if isinstance(stated, int | float) and not pd.isna(stated) and stated > 0:
        return Population(int(stated), "document")
    known = by_siren([siren])[siren]
    return Population(known, "insee" if known else "")


# Population bands of communes (the strates of the DGFiP « comptes individuels »): the upper
# bound, excluded, of every band but the last (under 100 inhabitants … 100 000 and more).
STRATE_BOUNDS = (100, 200, 500, 2_000, 3_500, 5_000, 10_000, 20_000, 50_000, 100_000)


def strate(population: int) -> int:
    """The band of a population: 0 (under 100 inhabitants) to 10 (100 000 and more)."""
    return bisect.bisect_right(STRATE_BOUNDS, population)


def commune_strates() -> pd.DataFrame:
    """`siren`, `population` and `strate` of every commune whose population is known."""
    communes = table()[(table()["kind"] == "commune")].dropna(subset=["population"])
    population = communes["population"].astype("int64")
    return pd.DataFrame({"siren": communes["siren"].to_numpy(), "population": population,
                         "strate": [strate(int(p)) for p in population]})
