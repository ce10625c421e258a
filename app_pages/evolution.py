"""Évolution: one budget over the years, by chapter, for the stage chosen."""

import streamlit as st

from app_pages.common import (
    chart_data,
    documents,
    lines_for,
    pick_direction,
    pick_entity,
    pick_stage,
    workshop_mode,
)
from budget_core import analysis, charts

st.title("Évolution sur plusieurs années")
workshop_mode()
docs = documents()
years_per_budget = docs.groupby(["siret", "stage"])["year"].nunique()
several = years_per_budget[years_per_budget >= 2].index.get_level_values("siret")
docs = docs[docs["siret"].isin(several)]
c1, c2, c3 = st.columns(3)
siret = pick_entity(docs, key="evo_siret", container=c1)
mine = docs[docs["siret"] == siret]
stage = pick_stage(mine, key="evo_etape", container=c2)
direction = pick_direction(c3, "evo_sens")
years = sorted(mine.loc[mine["stage"] == stage, "year"].unique())
if len(years) < 2:
    st.info("Ce budget n'a qu'une année publiée pour cette étape : choisissez-en un autre "
            "(Montreuil a ses comptes administratifs 2016 à 2023).")
    st.stop()
lines = lines_for([siret], [int(y) for y in years], [stage])
frame = analysis.evolution(lines)
frame = frame[frame["direction"] == direction]
top = frame.groupby("chapter_code")["amount"].sum().astype(float).nlargest(8).index
chapters = st.multiselect("Chapitres", sorted(frame["chapter_code"].unique()),
                          default=list(top), key="evo_chapitres", bind="query-params",
                          placeholder="Choisir des chapitres")
changes = analysis.nomenclature_changes(lines)
shown = frame[frame["chapter_code"].isin(chapters)]
st.altair_chart(charts.evolution_lines(shown, changes, "Montants réels par chapitre"),
                key="chart_evolution")
chart_data(shown[["year", "chapter_code", "chapter_label", "nomenclature", "amount"]].rename(
    columns={"year": "annee", "chapter_code": "chapitre", "chapter_label": "libelle",
             "amount": "montant"}), f"evolution_{siret}_{stage}.csv", "download_evolution",
    money=["montant"])
for year, before, after in changes:
    st.warning(f"Changement de nomenclature en {year} : {before} → {after}. Les chapitres "
               "principaux gardent leurs codes ; les autres peuvent ne pas se prolonger.")
