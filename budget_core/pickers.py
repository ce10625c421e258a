"""What a collectivité picker lists, at the scale of France: built once per catalogue.

One year of the DGFiP balances puts some 69 457 budgets in the catalogue. A picker listing
them all sends megabytes of options to the browser at every rerun, and filtering, sorting
and naming them took most of a page's rerun (1 to 4 s, README « At the scale of France »).
A `PickerIndex` sorts and names the budgets once (the app keeps it per version of the
catalogue); a picker then asks for the budgets of one type and one département, or of the
SIRENs a search found: a few hundred rows, never the whole catalogue.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from budget_core.coverage import departements_shapes
from budget_core.model import ENTITY_TYPE_LABELS
from budget_core.search import national_index

LIST_AT_MOST = 1500  # options a picker lists before asking for a département first


def departement_of_insee(insee: str) -> str:
    """`38185` → `38`, `97411` → `974`, `2A004` → `2A`; not a commune's code → ``."""
    if len(insee) != 5:
        return ""
    return insee[:3] if insee.startswith("97") else insee[:2]


def departements(rows: pd.DataFrame) -> pd.Series:
    """The département of each catalogue row: from its INSEE code, else from the national
    index of collectivités by SIREN (an annex budget, an EPCI: the first département of a
    collectivité holding several), else empty."""
    known = national_index()
    where = {e.siren: e.departement.split(", ")[0] for e in known.each_entity()}
    from_insee = rows["insee"].fillna("").astype(str).map(departement_of_insee)
    from_siren = rows["siren"].astype(str).map(where).fillna("")
    return from_insee.where(from_insee != "", from_siren)


@functools.cache
def departement_names() -> dict[str, str]:
    """Département code → name: the shipped map's, else the national index's collectivité
    holding it alone (overseas)."""
    names = {e.departement: e.name for e in national_index().each_entity()
             if e.kind == "departement" and ", " not in e.departement}
    names.update({f["properties"]["code"]: f["properties"]["nom"]
                  for f in departements_shapes()["features"]})
    return names


@dataclass(frozen=True)
class PickerIndex:
    """The options of a picker, sorted and named once: one row per value (`value`, `siren`,
    `entity_type`, `departement`, `label`) in the order the picker lists them, and the same
    rows by type and by type and département, so that a rerun filters nothing. It also finds
    the catalogue rows of one value (`rows_of`: a budget's documents) as a slice of the rows
    sorted once by value: comparing a SIRET with 69 457 rows and taking the matches cost 3 ms
    a filter (the take of each column as much as the comparison), and a page made three of
    them at each rerun."""

    options: pd.DataFrame
    unindexed: pd.DataFrame  # catalogue rows of collectivités the national index lacks
    types: list[str] = field(default_factory=list)
    _by_type: dict[str | None, pd.DataFrame] = field(default_factory=dict, repr=False)
    _by_place: dict[tuple[str | None, str], pd.DataFrame] = field(default_factory=dict,
                                                                 repr=False)
    _collectivites: dict[str | None, int] = field(default_factory=dict, repr=False)
    _departement: dict[str, str] = field(default_factory=dict, repr=False)  # by value
    # The catalogue rows sorted by value (a budget's rows stay in the catalogue's order), and
    # their values: a budget's rows are a slice of them, which copies nothing.
    _rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _sorted: np.ndarray = field(default_factory=lambda: np.array([], dtype=object), repr=False)

    @classmethod
    def of(cls, rows: pd.DataFrame, value: str, label: Callable[[pd.DataFrame], pd.Series]
           ) -> PickerIndex:
        """From catalogue rows: the first row of each `value` (a SIRET, a SIREN, a
        reference), sorted by collectivité name, named by `label` (vectorised). `rows` is
        kept, sorted by value (its rows are read, never modified)."""
        firsts = rows.drop_duplicates(value).sort_values("entity_name", kind="stable")
        options = pd.DataFrame({
            "value": firsts[value].astype(object), "siren": firsts["siren"].astype(object),
            "entity_type": firsts["entity_type"].astype(object),
            "departement": departements(firsts).astype(object),
            "label": label(firsts).astype(object)}).reset_index(drop=True)
        present = set(options["entity_type"].unique())
        known = national_index().by_siren
        by_type: dict[str | None, pd.DataFrame] = {None: options}
        for kind, group in options.groupby("entity_type", sort=False):
            by_type[str(kind)] = group
        by_place = {(kind, str(code)): group for kind, frame in by_type.items()
                    for code, group in frame.groupby("departement", sort=False)}
        values = rows[value].astype(str).to_numpy(dtype=object)
        order = np.argsort(values, kind="stable")
        return cls(options, firsts[[siren not in known for siren in firsts["siren"]]],
                   [t for t in ENTITY_TYPE_LABELS if t in present], by_type, by_place,
                   {kind: int(frame["siren"].nunique()) for kind, frame in by_type.items()},
                   dict(zip(options["value"], options["departement"], strict=True)),
                   rows.iloc[order], values[order])

    def of_type(self, kind: str | None) -> pd.DataFrame:
        return self._by_type.get(kind, self.options.iloc[:0])

    def collectivites(self, kind: str | None) -> int:
        return self._collectivites.get(kind, 0)

    def rows_of(self, value: object) -> pd.DataFrame:
        """The catalogue rows the index was made from whose value is `value` (the documents
        of one budget, in the catalogue's order); none for None or an unknown value."""
        if value is None:
            return self._rows.iloc[:0]
        wanted = str(value)
        start = int(np.searchsorted(self._sorted, wanted, side="left"))
        end = int(np.searchsorted(self._sorted, wanted, side="right"))
        return self._rows.iloc[start:end]

    def departements(self, kind: str | None) -> list[str]:
        """The départements of this type's options, in code order (`` last: none known)."""
        codes = {code for other, code in self._by_place if other == kind}
        return sorted(codes - {""}) + ([""] if "" in codes else [])

    def departement_of(self, value: object) -> str | None:
        return self._departement.get(str(value))

    def choices(self, kind: str | None, *, departement: str | None = None,
                sirens: Collection[str] | None = None,
                values: Collection[str] | None = None) -> dict[str, str]:
        """value → label of this type's options, of one département, of these SIRENs or
        among these values, in the picker's order."""
        rows = (self.of_type(kind) if departement is None
                else self._by_place.get((kind, departement), self.options.iloc[:0]))
        if sirens is not None:
            rows = rows[rows["siren"].isin(list(sirens))]
        if values is not None:
            rows = rows[rows["value"].isin(list(values))]
        return dict(zip(rows["value"], rows["label"], strict=True))
