"""Comparer: two to ten budgets side by side by chapter, in € and € per inhabitant."""

import streamlit as st

from app_pages.common import (
    CHOOSE,
    chart_data,
    documents,
    entity_label,
    lines_for,
    pick_direction,
    pick_stage,
    url_multiselect,
    workshop_mode,
)
from budget_core import analysis, charts, population
from budget_core.model import STAGE_LABELS

st.title("Comparer des collectivités")
workshop_mode()
docs = documents()
c1, c2 = st.columns(2)
stage = pick_stage(docs, key="cmp_etape", container=c1)
years = sorted(docs.loc[docs["stage"] == stage, "year"].unique(), reverse=True)
year = c2.selectbox("Année", years, key="cmp_annee", bind="query-params",
                    placeholder=CHOOSE)
same = docs[(docs["stage"] == stage) & (docs["year"] == year)].drop_duplicates("siret")
names = dict(zip(same["siret"], same.apply(entity_label, axis=1), strict=True))
chosen = url_multiselect(st, "Budgets à comparer (2 à 10)", list(names), "cmp",
                         names.__getitem__, default=list(names)[:2], max_selections=10)
per_head = st.toggle("En € par habitant", key="par_habitant", bind="query-params")
direction = pick_direction(st, "cmp_sens")
if len(chosen) < 2:
    st.info(f"Choisissez au moins deux budgets publiés pour la même année et la même étape "
            f"({STAGE_LABELS.get(stage or '', '')} {year}).")
    st.stop()

lines = lines_for(chosen, [int(year)], [stage])
heads = population.by_siren(sorted({s[:9] for s in chosen}))
frame = analysis.compare(lines, heads)
frame = frame[frame["direction"] == direction]
if per_head:
    missing = [names[s] for s in chosen if heads.get(s[:9]) is None]
    if missing:
        st.warning("Population inconnue (pas une commune ni un EPCI) : " + ", ".join(missing))
    frame = frame[frame["population"].notna()]
value = "per_inhabitant" if per_head else "amount"
title = f"{'Dépenses' if direction == 'depense' else 'Recettes'} réelles par chapitre"
st.altair_chart(charts.compare_bars(frame, value, title), key="chart_comparer")
chart_data(frame[["entity_name", "direction", "chapter_code", "chapter_label", "amount",
                  "population", "per_inhabitant"]].rename(columns={
    "entity_name": "collectivite", "direction": "sens", "chapter_code": "chapitre",
    "chapter_label": "libelle", "amount": "montant", "per_inhabitant": "montant_par_habitant"}),
    f"comparaison_{stage}_{year}.csv", "download_comparer",
    money=["montant", "montant_par_habitant"], counts=["population"])
st.caption(f"Population : {population.SOURCE}.")
