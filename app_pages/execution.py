"""Prévu / réalisé: crédits ouverts (BP + BS + DM) against what was done, by chapter."""

import streamlit as st

from app_pages.common import (
    documents,
    lines_for,
    pick_direction,
    pick_entity,
    pick_year,
    workshop_mode,
)
from budget_core import analysis, charts
from budget_core.fmt import euros, percent
from budget_core.model import EXECUTED_STAGES

st.title("Prévu / réalisé")
workshop_mode()
docs = documents()
executed = docs[docs["stage"].isin(EXECUTED_STAGES)]
c1, c2, c3 = st.columns(3)
siret = pick_entity(executed, key="exe_siret", container=c1)
mine = executed[executed["siret"] == siret]
year = pick_year(c2, mine, "exe_annee")
direction = pick_direction(c3, "exe_sens")
if siret is None or year is None:
    st.info("Aucun compte administratif ni CFU n'est chargé.")
    st.stop()
# One executed document a year: a CA or, from the CFU on, a compte financier unique.
doc = mine[mine["year"] == year].iloc[0]
stage = str(doc["stage"])
frame = analysis.execution(lines_for([str(doc["doc_key"])]))
frame = frame[frame["direction"] == direction]
voted, done = frame["cred_ouv"].sum(), frame["mt_real"].sum()
m1, m2, m3 = st.columns(3)
m1.metric("Crédits ouverts", euros(voted))
m2.metric("Réalisé", euros(done))
m3.metric("Taux d'exécution", percent(float(done) / float(voted) if voted else None))
st.altair_chart(charts.execution_bars(frame, f"Exécution {stage} {year} par chapitre"),
                key="chart_execution")
shown = frame[["chapter_code", "chapter_label", "cred_ouv", "mt_real", "mt_rar_3112",
               "execution_rate"]].copy()
for column in ("cred_ouv", "mt_real", "mt_rar_3112"):
    shown[column] = shown[column].astype(float)
st.dataframe(shown, hide_index=True, width="stretch", column_config={
    "chapter_code": "Chapitre", "chapter_label": "Libellé",
    "cred_ouv": st.column_config.NumberColumn("Crédits ouverts (€)", format="localized"),
    "mt_real": st.column_config.NumberColumn("Réalisé (€)", format="localized"),
    "mt_rar_3112": st.column_config.NumberColumn("Restes à réaliser (€)", format="localized"),
    "execution_rate": st.column_config.NumberColumn("Taux", format="percent")})
st.caption("Crédits ouverts = budget primitif + budget supplémentaire + décisions "
           "modificatives, tels que le compte les rappelle ; opérations réelles.")
