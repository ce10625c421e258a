"""Comparer's work, cached by the choices, and its comparison fragment, in a module imported
once.

A page script runs anew at every rerun, and so does each `st.cache_data` and `st.fragment`
it defines: Streamlit reads a cached function's source again to key its cache (2 to 3 ms a
rerun for Comparer's). Made here, they are made once per process; the page runs its pickers
and calls them. A change of stage, year or budgets reads cached lists, sums and a cached
table; only the comparison's widgets, its chart and its download button are drawn anew.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.catalogue import comparable_index, documents
from app_pages.common import ALL, pick_direction, source_notes, summary
from app_pages.drawing import altair_chart, show_table
from budget_core import analysis, charts, population
from budget_core.fmt import md_escape, number
from budget_core.model import STAGE_LABELS
from budget_core.scdl import csv_safe_bytes
from budget_core.selection import default_comparison

Versions = tuple[tuple[str, float], ...]  # the catalogue's (`catalogue.catalogue_versions`)
# What Comparer's pickers choose: stage, year, and the documents' keys → their names, in the
# order chosen.
Picked = tuple[str | None, int | None, dict[str, str]]
# A comparison asked: stage, year, the documents' keys in the order chosen and their names,
# the direction, per inhabitant or not, and the catalogue's versions.
Asked = tuple[str | None, int | None, tuple[str, ...], tuple[str, ...], str, bool, Versions]


@st.cache_data(show_spinner=False, max_entries=32)
def default(stage: str | None, year: int | None, kind: str, first: str | None,
            versions: Versions, uploaded: tuple[str, ...]) -> list[str]:
    """`selection.default_comparison` among the documents of that stage, year and type,
    this session's uploads included (`uploaded` keys the cache, shared by every session)."""
    same, _ = comparable_index(stage, year)
    return default_comparison(same if kind == ALL else same[same["entity_type"] == kind],
                              first)


@st.cache_resource(show_spinner=False, max_entries=4)
def stages_and_years(versions: Versions, uploaded: tuple[str, ...]) -> pd.DataFrame:
    """The (stage, year) pairs of `documents()`: a few rows the stage and year pickers read,
    where filtering the 70 000 rows of a France-scale catalogue by stage took 5 ms a rerun
    (a resource: read it, never modify it)."""
    return documents()[["stage", "year"]].drop_duplicates()


@st.cache_resource(show_spinner=False, max_entries=8)
def document_keys(stage: str | None, year: int | None, versions: Versions,
                  uploaded: tuple[str, ...]) -> dict[str, str]:
    """The document key of each `ref` the picker of that stage and year offers (a SIRET, or
    a document's key for DMs and uploads): a lookup, where selecting the chosen refs among
    the 69 457 budgets of a France-scale year took 3 ms a rerun."""
    same, _ = comparable_index(stage, year)
    return dict(zip(same["ref"], same["doc_key"].astype(str), strict=True))


@st.cache_data(show_spinner=False, max_entries=64)
def _compared(stage: str | None, year: int | None, keys: tuple[str, ...],
              names: tuple[str, ...], direction: str, per_head: bool, versions: Versions
              ) -> tuple[pd.DataFrame, bytes, dict[str, population.Population]]:
    """The rows drawn (one direction; per inhabitant, those whose population is known), their
    CSV, and each document's population: a rerun that asks the same (another widget, the
    same budgets again) neither sums, filters nor writes them again. `versions` keys the sums
    of documents imported anew."""
    same, _ = comparable_index(stage, year)
    rows = same.set_index("doc_key").loc[list(keys)]
    heads = {str(key): population.of_document(str(row["siren"]), row["population"],
                                              int(row["year"]))
             for key, row in rows.iterrows()}
    frame = summary(analysis.compare, keys, names=dict(zip(keys, names, strict=True)),
                    population={key: head.value for key, head in heads.items()})
    frame = frame[frame["direction"] == direction]
    if per_head:
        frame = frame[frame["population"].notna()]
    export = frame.drop(columns=["doc_key"]).rename(columns={
        "direction": "sens", "chapter_code": "chapitre", "chapter_label": "libelle",
        "amount": "montant", "per_inhabitant": "par_habitant"})
    return frame, csv_safe_bytes(export), heads


@st.cache_data(show_spinner=False, max_entries=64)
def _notes_and_table(asked: Asked, table: bool) -> None:
    # Drawn inside the cache: a hit replays what Streamlit recorded (the captions, the
    # table) instead of looking the sources up and rendering the French Styler cell by cell.
    frame, _, heads = _compared(*asked)
    stage, year, keys, names, _, per_head, _ = asked
    by_key = dict(zip(keys, names, strict=True))
    notes = [f"{md_escape(by_key[key])} : {number(head.value)} habitants ({head.french()})"
             for key, head in heads.items()]
    st.caption("Opérations réelles, hors résultats reportés (001/002). Population de l'année du "
               "budget : " + " ; ".join(notes) + ".")
    same, _ = comparable_index(stage, year)
    source_notes(same[same["doc_key"].isin(keys)])
    kinds = summary(analysis.nomenclatures, keys)
    if len(kinds) > 1:
        st.caption(f"Nomenclatures différentes ({md_escape(', '.join(kinds))}) : les "
                   "chapitres sont rapprochés par leur code, sous le libellé de la plus récente "
                   "(M57) ; un chapitre propre à une nomenclature n'a pas d'équivalent dans "
                   "l'autre.")
    if table:
        _table(frame, " (par habitant)" if per_head else "",
               "per_inhabitant" if per_head else "amount")


def _table(frame: pd.DataFrame, unit: str, value: str) -> None:
    """The chapters by budget as a static table (`show_table(static=True)`: the grid redrew
    the hidden copy it keeps for screen readers 200 ms after its canvas, at every change of
    budgets), « — » where a budget has nothing in a chapter. Rows are in chapter order; the
    CSV is below."""
    table = frame.pivot_table(index=["chapter_code", "chapter_label"], columns="budget",
                              values=value, aggfunc="sum", observed=True).reset_index()
    table.columns.name = None
    budgets = {c: f"{c}{unit}" for c in table.columns
               if c not in ("chapter_code", "chapter_label")}
    show_table(table.rename(columns={"chapter_code": "Chapitre", "chapter_label": "Libellé",
                                     **budgets}),
               money=list(budgets.values()), static=True)


# A fragment: « En € par habitant » and « Sens » rerun the chart and the table alone (with the
# choices of the page's last run), not the pickers above.
@st.fragment
def comparison(names: dict[str, str], stage: str | None, year: int | None, atelier: bool,
               versions: Versions) -> None:
    """The comparison of the documents `names` holds (key → name, in the order chosen)."""
    o1, o2 = st.columns(2)
    per_head = o1.toggle("En € par habitant", key="par_habitant", bind="query-params")
    direction = pick_direction(o2, "cmp_sens")
    if len(names) < 2:
        st.info(f"Choisissez au moins deux budgets publiés pour la même année et la même étape "
                f"({STAGE_LABELS.get(stage or '', '')} {year}).")
        return

    asked: Asked = (stage, year, tuple(names), tuple(names.values()), direction, per_head,
                    versions)
    frame, csv, heads = _compared(*asked)
    if per_head:
        missing = [md_escape(names[key]) for key, head in heads.items() if head.value is None]
        if missing:
            st.warning("Population inconnue (ni dans le document, ni commune ou EPCI) : "
                       + ", ".join(missing))
    sens = "Dépenses" if direction == "depense" else "Recettes"
    altair_chart(charts.compare_bars, frame, "per_inhabitant" if per_head else "amount",
                 f"{sens} réelles par chapitre", key="chart_comparer")
    _notes_and_table(asked, not atelier)
    if not atelier:
        st.download_button("Télécharger ces données (CSV)", csv,
                           file_name=f"comparaison_{stage}_{year}_{direction}.csv",
                           mime="text/csv", key="download_comparer")
