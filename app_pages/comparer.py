"""Comparer: two to ten budgets side by side by chapter, in € and € per inhabitant."""

import pandas as pd
import streamlit as st

from app_pages.catalogue import (
    catalogue_versions,
    comparable_index,
    documents,
    picker_index,
    richest_choice,
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
    show_table,
    source_notes,
    summary,
    url_multiselect,
    url_selectbox,
    workshop_mode,
)
from budget_core import analysis, charts, population
from budget_core.fmt import md_escape, number
from budget_core.model import ENTITY_TYPE_LABELS, STAGE_LABELS
from budget_core.scdl import csv_safe_bytes
from budget_core.selection import default_comparison


@st.cache_data(show_spinner=False, max_entries=32)
def _default(stage: str | None, year: int | None, kind: str, first: str | None,
             versions: tuple[tuple[str, float], ...]) -> list[str]:
    same, _ = comparable_index(stage, year)
    return default_comparison(same if kind == ALL else same[same["entity_type"] == kind],
                              first)


st.title("Comparer des budgets")
atelier = workshop_mode()
docs = documents()
c1, c2, c3 = st.columns(3)
# Nothing chosen yet: open where the most budgets can be compared.
widest_stage, widest_year = richest_choice()
stage = pick_stage(docs, key="cmp_etape", container=c1, fallback=widest_stage)
year = pick_year(c2, docs[docs["stage"] == stage], "cmp_annee", fallback=widest_year)
kind = url_selectbox(c3, "Type de collectivité", [ALL, *picker_index().types], "cmp_type",
                     lambda t: ENTITY_TYPE_LABELS.get(t, t))
same, index = comparable_index(stage, year)
of_kind = None if kind == ALL else kind
default = _default(stage, year, kind, remembered().get("siret"), catalogue_versions())
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
               by_key: dict[str, str], stage: str | None, year: int | None, atelier: bool
               ) -> None:
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
    frame = summary(analysis.compare, keys, names=by_key,
                    population={key: head.value for key, head in heads.items()})
    frame = frame[frame["direction"] == direction]
    if per_head:
        missing = [by_key[key] for key, head in heads.items() if head.value is None]
        if missing:
            st.warning("Population inconnue (ni dans le document, ni commune ou EPCI) : "
                       + ", ".join(missing))
        frame = frame[frame["population"].notna()]
    value = "per_inhabitant" if per_head else "amount"
    sens = "Dépenses" if direction == "depense" else "Recettes"
    altair_chart(charts.compare_bars, frame, value, f"{sens} réelles par chapitre",
                 key="chart_comparer")
    notes = [f"{md_escape(by_key[key])} : {number(head.value)} habitants ({head.french()})"
             for key, head in heads.items()]
    st.caption("Opérations réelles, hors résultats reportés (001/002). Population de l'année du "
               "budget : " + " ; ".join(notes) + ".")
    source_notes(picked.reset_index())
    kinds = summary(analysis.nomenclatures, keys)
    if len(kinds) > 1:
        st.caption(f"Nomenclatures différentes ({md_escape(', '.join(kinds))}) : les "
                   "chapitres sont rapprochés par leur code, sous le libellé de la plus récente "
                   "(M57) ; un chapitre propre à une nomenclature n'a pas d'équivalent dans "
                   "l'autre.")

    if not atelier:
        table = frame.pivot_table(index=["chapter_code", "chapter_label"], columns="budget",
                                  values=value, aggfunc="sum", observed=True).reset_index()
        budget_columns = [c for c in table.columns if c not in ("chapter_code", "chapter_label")]
        unit = " (par habitant)" if per_head else ""
        show_table(table.rename(columns={"chapter_code": "Chapitre", "chapter_label": "Libellé",
                                         **{c: f"{c}{unit}" for c in budget_columns}}),
                   money=[f"{c}{unit}" for c in budget_columns])
        export = frame.rename(columns={"budget": "budget", "direction": "sens",
                                       "chapter_code": "chapitre", "chapter_label": "libelle",
                                       "amount": "montant", "per_inhabitant": "par_habitant"})
        st.download_button("Télécharger ces données (CSV)",
                           csv_safe_bytes(export.drop(columns=["doc_key"])),
                           file_name=f"comparaison_{stage}_{year}_{direction}.csv",
                           mime="text/csv", key="download_comparer")


comparison(picked, chosen, refs, by_key, stage, year, atelier)
