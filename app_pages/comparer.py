"""Comparer: two to ten budgets side by side by chapter, in € and € per inhabitant."""

import pandas as pd
import streamlit as st

from app_pages.catalogue import (
    catalogue_versions,
    comparable_index,
    documents,
    picker_index,
    richest_choice,
    uploads,
)
from app_pages.common import (
    ALL,
    altair_chart,
    kept,
    narrowed,
    pick_direction,
    pick_stage,
    pick_year,
    remembered,
    source_notes,
    summary,
    url_multiselect,
    url_selectbox,
    workshop_mode,
)
from budget_core import analysis, charts, population
from budget_core.fmt import french_table, md_escape, number
from budget_core.model import ENTITY_TYPE_LABELS, STAGE_LABELS
from budget_core.scdl import csv_safe_bytes
from budget_core.selection import default_comparison


@st.cache_data(show_spinner=False, max_entries=32)
def _default(stage: str | None, year: int | None, kind: str, first: str | None,
             versions: tuple[tuple[str, float], ...]) -> list[str]:
    same, _ = comparable_index(stage, year)
    return default_comparison(same if kind == ALL else same[same["entity_type"] == kind],
                              first)


@st.cache_resource(show_spinner=False, max_entries=4)
def _stages_and_years(versions: tuple[tuple[str, float], ...], uploaded: tuple[str, ...]
                      ) -> pd.DataFrame:
    """The (stage, year) pairs of `documents()`: a few rows the stage and year pickers read,
    where filtering the 70 000 rows of a France-scale catalogue by stage took 5 ms a rerun."""
    return documents()[["stage", "year"]].drop_duplicates()


Asked = tuple[tuple[str, ...], tuple[str, ...], tuple[int | None, ...], str, bool,
              tuple[tuple[str, float], ...]]


@st.cache_data(show_spinner=False, max_entries=64)
def _compared(keys: tuple[str, ...], names: tuple[str, ...], heads: tuple[int | None, ...],
              direction: str, per_head: bool, versions: tuple[tuple[str, float], ...]
              ) -> tuple[pd.DataFrame, bytes, list[str]]:
    """The rows drawn (one direction; per inhabitant, those whose population is known), their
    CSV and the documents' nomenclatures, by the choices: a rerun that keeps them (the same
    budgets again, another widget) neither sums, filters nor writes them again. `versions`
    (the catalogue's) keys the sums of documents imported anew."""
    frame = summary(analysis.compare, keys, names=dict(zip(keys, names, strict=True)),
                    population=dict(zip(keys, heads, strict=True)))
    frame = frame[frame["direction"] == direction]
    if per_head:
        frame = frame[frame["population"].notna()]
    export = frame.drop(columns=["doc_key"]).rename(columns={
        "direction": "sens", "chapter_code": "chapitre", "chapter_label": "libelle",
        "amount": "montant", "per_inhabitant": "par_habitant"})
    return frame, csv_safe_bytes(export), summary(analysis.nomenclatures, keys)


@st.cache_data(show_spinner=False, max_entries=64)
def _table(asked: Asked) -> None:
    # Drawn inside the cache: a hit replays the table Streamlit recorded instead of rendering
    # the French Styler cell by cell again. A static table, not a grid (`st.dataframe`): the
    # grid redrew the hidden copy it keeps for screen readers 200 ms after its canvas, at
    # every change of budgets; rows are in chapter order and the CSV is below. Its cells
    # are Markdown: the names and labels a document gives are escaped.
    frame, _, _ = _compared(*asked)
    per_head = asked[4]
    value = "per_inhabitant" if per_head else "amount"
    table = frame.pivot_table(index=["chapter_code", "chapter_label"], columns="budget",
                              values=value, aggfunc="sum", observed=True).reset_index()
    if table.empty:
        st.caption("Aucune ligne.")
        return
    unit = " (par habitant)" if per_head else ""
    budgets = {c: md_escape(f"{c}{unit}") for c in table.columns
               if c not in ("chapter_code", "chapter_label")}
    table["chapter_label"] = table["chapter_label"].map(md_escape)
    st.table(french_table(table.rename(columns={"chapter_code": "Chapitre",
                                                "chapter_label": "Libellé", **budgets}),
                          money=list(budgets.values())), hide_index=True)


st.title("Comparer des budgets")
atelier = workshop_mode()
versions = catalogue_versions()
c1, c2, c3 = st.columns(3)
# Nothing chosen yet: open where the most budgets can be compared.
widest_stage, widest_year = richest_choice()
held = _stages_and_years(versions, tuple(uploads()))
stage = pick_stage(held, key="cmp_etape", container=c1, fallback=widest_stage)
year = pick_year(c2, held[held["stage"] == stage], "cmp_annee", fallback=widest_year)
kind = url_selectbox(c3, "Type de collectivité", [ALL, *picker_index().types], "cmp_type",
                     lambda t: ENTITY_TYPE_LABELS.get(t, t))
same, index = comparable_index(stage, year)
of_kind = None if kind == ALL else kind
default = _default(stage, year, kind, remembered().get("siret"), versions)
# The budgets listed: those chosen (or linked, or the default) and those the search or the
# département finds, never the 69 457 budgets of a France-scale catalogue at once.
listed = kept(index, of_kind, "cmp", default)
names = {**listed, **narrowed(index, of_kind, st, "cmp", next(iter(listed), None))}
chosen = url_multiselect(st, "Budgets à comparer (2 à 10)", list(names), "cmp",
                         names.__getitem__, default=default, max_selections=10)
picked = same[same["ref"].isin(chosen)]
refs = dict(zip(picked["ref"], picked["doc_key"].astype(str), strict=True))
by_key = {refs[ref]: names[ref] for ref in chosen}


# A fragment: « En € par habitant » and « Sens » rerun the chart and the table alone (with the
# choices of the page's last run), not the pickers above.
@st.fragment
def comparison(picked: pd.DataFrame, chosen: list[str], refs: dict[str, str],
               by_key: dict[str, str], stage: str | None, year: int | None, atelier: bool,
               versions: tuple[tuple[str, float], ...]) -> None:
    o1, o2 = st.columns(2)
    per_head = o1.toggle("En € par habitant", key="par_habitant", bind="query-params")
    direction = pick_direction(o2, "cmp_sens")
    if len(chosen) < 2:
        st.info(f"Choisissez au moins deux budgets publiés pour la même année et la même étape "
                f"({STAGE_LABELS.get(stage or '', '')} {year}).")
        return

    keys = [refs[ref] for ref in chosen]
    picked = picked.set_index("doc_key").loc[keys]
    heads = {key: population.of_document(str(row["siren"]), row["population"], int(row["year"]))
             for key, row in picked.iterrows()}
    asked: Asked = (tuple(keys), tuple(by_key[key] for key in keys),
             tuple(head.value for head in heads.values()), direction, per_head, versions)
    frame, csv, kinds = _compared(*asked)
    if per_head:
        missing = [by_key[key] for key, head in heads.items() if head.value is None]
        if missing:
            st.warning("Population inconnue (ni dans le document, ni commune ou EPCI) : "
                       + ", ".join(missing))
    value = "per_inhabitant" if per_head else "amount"
    sens = "Dépenses" if direction == "depense" else "Recettes"
    altair_chart(charts.compare_bars, frame, value, f"{sens} réelles par chapitre",
                 key="chart_comparer")
    notes = [f"{md_escape(by_key[key])} : {number(head.value)} habitants ({head.french()})"
             for key, head in heads.items()]
    st.caption("Opérations réelles, hors résultats reportés (001/002). Population de l'année du "
               "budget : " + " ; ".join(notes) + ".")
    source_notes(picked.reset_index())
    if len(kinds) > 1:
        st.caption(f"Nomenclatures différentes ({md_escape(', '.join(kinds))}) : les "
                   "chapitres sont rapprochés par leur code, sous le libellé de la plus récente "
                   "(M57) ; un chapitre propre à une nomenclature n'a pas d'équivalent dans "
                   "l'autre.")

    if not atelier:
        _table(asked)
        st.download_button("Télécharger ces données (CSV)", csv,
                           file_name=f"comparaison_{stage}_{year}_{direction}.csv",
                           mime="text/csv", key="download_comparer")


comparison(picked, chosen, refs, by_key, stage, year, atelier, versions)
