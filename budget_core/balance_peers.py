"""A commune against its peers chapter by chapter, from the DGFiP balances (any commune of
France, published documents or not).

Per chapter, the real amount of each commune's budget principal (the `_chapters` aggregates
computed at import) divided by the population of the accounts' year: the INSEE population
totale légale in force that year when shipped (`population.history`, 2022 onwards), else the
latest population légale shipped (as `population.of_document` does for a budget without its
own). Peers: the communes of the same strate that year, département, région, intercommunalité,
one of OFGL's criteria (rural, mountain…: from the OFGL national accounts of that year, when
loaded), all communes, or a list. A chapter's median and quartiles (linear interpolation, as
`statistics.quantiles(method="inclusive")`) are among the peers holding that chapter, the
commune included when it is a peer; rank 1 is the highest amount per inhabitant.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from budget_core.balance_budget import plan_of
from budget_core.balances import BalanceStore
from budget_core.errors import BudgetError
from budget_core.national import CRITERION_LABELS, NationalStore
from budget_core.population import population_by_year, strates_of, table

LEVEL = "communes"
# The groups offered, in order. OFGL's own criteria are read from its accounts of the year.
GROUPS = {
    "strate": CRITERION_LABELS["strate"], "departement": CRITERION_LABELS["departement_code"],
    "region": CRITERION_LABELS["region_code"], "epci_siren": "Même intercommunalité (EPCI)",
    **{c: CRITERION_LABELS[c] for c in ("rural", "mountain", "touristic", "income_band", "qpv")},
    "all": "Toutes les communes", "custom": "Liste personnalisée"}
FROM_OFGL = ("epci_siren", "rural", "mountain", "touristic", "income_band", "qpv")
# € per inhabitant of every commune's budget principal, by direction and chapter, one year.
# Not of a commune of no inhabitant (the shipped table has six, villages of the Meuse
# destroyed in 1916): its amount divided by 0 was an infinite value, which no median, rank
# or French number can take (Se comparer stopped on a traceback).
VALUES_SQL = """
    WITH pop AS (SELECT s.siren, coalesce(y.population, s.population) AS population
                 FROM strates s LEFT JOIN populations y ON y.siren = s.siren AND y.year = ?)
    SELECT c.direction, c.siren, c.chapter_code, any_value(c.section) AS section,
           sum(c.real_amount) / any_value(pop.population) AS v
    FROM chapters c JOIN pop ON pop.siren = c.siren
    WHERE c.level = ? AND c.year = ? AND c.cbudg = '1' AND c.real_amount <> 0
          AND pop.population > 0
    GROUP BY c.direction, c.siren, c.chapter_code"""


# The nomenclature of a commune's budget principal, whose plan names its chapters.
LABELS_SQL = ("SELECT any_value(nomen) AS nomen FROM balances WHERE year = ? AND siren = ? "
              "AND cbudg = '1'")


# `section` as `placement` has always returned it: the query's own Arrow strings (`_values`
# stores it as categorical).
SECTION = pd.ArrowDtype(pa.string())


@dataclass(frozen=True)
class Peers:
    """Who a commune is compared with: SIRENs (None: every commune), or why no group."""

    label: str
    sirens: tuple[str, ...] | None = None
    missing: str = ""  # a French sentence when the group cannot be made


@functools.lru_cache(maxsize=4)
def communes(year: int) -> pd.DataFrame:
    """`siren`, `insee`, `departement`, `region`, `population` and `strate` of every commune
    in `year` (the population in force that year where shipped, else the latest)."""
    base = table()[table()["kind"] == "commune"].dropna(subset=["population"])
    base = base[["siren", "insee", "departement", "region", "population"]]
    history = population_by_year()
    of_year = history[history["year"] == year].set_index("siren")["population"]
    population = base["siren"].map(of_year).fillna(base["population"]).astype("int64")
    return base.assign(population=population, strate=strates_of(population))


def peers(group: str, siren: str, year: int, national: NationalStore | None = None,
          custom: Sequence[str] = ()) -> Peers:
    """The peers of a commune for a group of GROUPS."""
    if group not in GROUPS:
        raise BudgetError(f"groupe « {group} » inconnu.",
                          hint=f"Groupes possibles : {', '.join(GROUPS)}.")
    label = GROUPS[group]
    if group == "all":
        return Peers(label)
    if group == "custom":
        return Peers(label, tuple(dict.fromkeys(custom)))
    if group in FROM_OFGL:
        return _ofgl_peers(group, siren, year, national)
    column = {"strate": "strate", "departement": "departement", "region": "region"}[group]
    frame = communes(year)
    own = frame.loc[frame["siren"] == siren, column]
    if own.empty or pd.isna(own.iloc[0]):
        return Peers(label, missing=f"pas de groupe « {label.lower()} » : la commune n'est "
                                    "pas dans la table des communes (population, COG 2026).")
    return Peers(label, tuple(frame.loc[frame[column] == own.iloc[0], "siren"]))


def _ofgl_peers(group: str, siren: str, year: int, national: NationalStore | None) -> Peers:
    label = GROUPS[group]
    if national is None or year not in national.years(LEVEL):
        return Peers(label, missing=f"« {label} » vient des comptes OFGL des communes de "
                                    f"{year}, qui ne sont pas chargés : python -m budget_core "
                                    f"national --level communes --year {year}.")
    rows = national.query(LEVEL, f"SELECT DISTINCT siren, {group} AS value FROM ofgl "
                          "WHERE year = ? AND value IS NOT NULL", [year])
    own = rows.loc[rows["siren"] == siren, "value"]
    if own.empty:
        return Peers(label, missing=f"pas de groupe « {label.lower()} » : la commune n'a pas "
                                    f"cette information dans les comptes OFGL de {year}.")
    return Peers(label, tuple(rows.loc[rows["value"] == own.iloc[0], "siren"]))


@dataclass(frozen=True)
class Values:
    """The € per inhabitant of every commune's budget principal in one direction and year,
    sorted by SIREN, with where each SIREN's rows are: a group of 5 000 peers is 5 000 slices,
    not a scan of a million rows."""

    rows: pd.DataFrame  # siren, chapter_code, section (categorical), v
    where: dict[str, tuple[int, int]]

    def of(self, sirens: Sequence[str] | None) -> pd.DataFrame:
        if sirens is None:
            return self.rows
        spans = [self.where[siren] for siren in sirens if siren in self.where]
        return self.rows.iloc[np.concatenate([np.arange(a, b) for a, b in spans])
                              if spans else []]


@functools.lru_cache(maxsize=2)
def _values(store: BalanceStore, version: tuple[tuple[str, float], ...], year: int
            ) -> dict[str, Values]:
    # One query a year and version of the balances, shared by every placement and map: each
    # placement computing its own took 0.5 to 3 s at the scale of France on a loaded machine
    # (the € per inhabitant of 34 780 communes × their chapters, then the quantiles).
    # The codes are categorical: an integer code a row into one list of the 35 000 SIRENs,
    # the chapters and the two sections, where Python strings on each of the 2.4 M rows of a
    # real year took the server past 1 GiB.
    frame = store.query(VALUES_SQL, [year, LEVEL, year])
    if frame.empty:  # no balance at all: the store answers a frame without columns
        return {}
    frame = frame.astype({"siren": "category", "chapter_code": "category",
                          "section": "category", "v": "float64"})
    found = {}
    for direction, rows in frame.groupby(frame["direction"].astype(object)):
        rows = rows.drop(columns="direction").sort_values("siren").reset_index(drop=True)
        codes = rows["siren"].cat.codes.to_numpy()
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        stops = np.r_[starts[1:], len(codes)]
        sirens = rows["siren"].cat.categories
        found[str(direction)] = Values(rows, {str(sirens[codes[a]]): (int(a), int(b))
                                              for a, b in zip(starts, stops, strict=True)})
    return found


def values(store: BalanceStore, year: int, direction: str) -> Values:
    """Every commune's € per inhabitant by chapter in one direction (`Values`): read once per
    year and version of the balances (`_values`)."""
    empty = pd.DataFrame(columns=["siren", "chapter_code", "section", "v"])
    return _values(store, store.version(), year).get(direction, Values(empty, {}))


def placement(store: BalanceStore, year: int, siren: str, direction: str,
              group: Peers) -> pd.DataFrame:
    """Per chapter of the commune (real amounts of its budget principal): `chapter_code`,
    `chapter_label`, `section`, `value` (€ per inhabitant), `median`, `q1`, `q3`, `rank`
    (1 = highest) and `peers` (communes of the group holding the chapter)."""
    columns = ["chapter_code", "section", "value", "median", "q1", "q3", "rank", "peers"]
    every = values(store, year, direction)
    own = every.of([siren]).set_index("chapter_code")
    peers = every.of(group.sirens)
    peers = peers[peers["chapter_code"].isin(own.index)]
    if peers.empty:
        return pd.DataFrame(columns=[*columns, "chapter_label"])
    grouped = peers.groupby("chapter_code", observed=True)["v"]
    # Linear interpolation between the closest ranks: DuckDB's quantile_cont, and
    # statistics.quantiles(method="inclusive").
    quartiles = grouped.quantile(pd.Index([0.25, 0.5, 0.75])).unstack()
    above = (peers["v"].to_numpy() > own.loc[peers["chapter_code"], "v"].to_numpy())
    frame = pd.DataFrame({
        "section": own["section"], "value": own["v"], "median": quartiles[0.5],
        "q1": quartiles[0.25], "q3": quartiles[0.75],
        "rank": 1 + pd.Series(above, index=peers["chapter_code"]).groupby(
            level=0, observed=True).sum(),
        "peers": grouped.size()}).dropna(subset=["peers"])
    # Categorical up to here (one dtype for every index: aligning them is fast), plain after.
    frame = frame.rename_axis("chapter_code").reset_index().astype(
        {"chapter_code": "str", "section": SECTION})
    frame = frame.sort_values("chapter_code").astype({"rank": "int64", "peers": "int64"})
    frame = frame[columns].reset_index(drop=True)
    return frame.assign(chapter_label=frame["chapter_code"].map(_labels(store, year, siren)))


def _labels(store: BalanceStore, year: int, siren: str) -> dict[str, str]:
    """Chapter labels from the plan of the commune's own nomenclature that year."""
    nomen = store.query(LABELS_SQL, [year, siren])["nomen"]
    if nomen.empty or pd.isna(nomen.iloc[0]):
        return {}
    try:
        plan = plan_of(str(nomen.iloc[0]), year)
    except BudgetError:
        return {}
    return {code: chapter.label for code, chapter in plan.chapters.items()}


def chapter_values(store: BalanceStore, year: int, chapter: str, direction: str
                   ) -> pd.DataFrame:
    """`siren`, `insee`, `departement` and `value` (€ per inhabitant) of one chapter for every
    commune holding it that year: what the maps draw."""
    every = values(store, year, direction).rows
    found = every[every["chapter_code"] == chapter].astype({"siren": "object"})
    frame = communes(year)[["siren", "insee", "departement"]]
    merged = found.merge(frame, on="siren", how="inner")
    return merged.assign(value=merged["v"])[["siren", "insee", "departement", "value"]]


def by_departement(values: pd.DataFrame) -> pd.DataFrame:
    """Median € per inhabitant of the communes of each département (`code`, `value`,
    `communes`)."""
    grouped = values.groupby("departement")["value"]
    return pd.DataFrame({"code": grouped.median().index, "value": grouped.median().to_numpy(),
                         "communes": grouped.size().to_numpy()})
