"""Prévu / réalisé: crédits ouverts (BP + BS + DM) against what was done, by chapter."""

import streamlit as st

from app_pages.catalogue import picked, picker_index, uploads
from app_pages.common import pick_direction, pick_entity, pick_year, summary, workshop_mode
from app_pages.drawing import altair_chart, chart_data
from budget_core import analysis, charts
from budget_core.fmt import compact_euros, euros, md_escape, percent
from budget_core.selection import uploads_first

st.title("Prévu / réalisé")
workshop_mode()
executed = picked("executed")
c1, c2, c3 = st.columns(3)
siret = pick_entity(picker_index("executed"), key="exe_siret", container=c1)
mine = executed[executed["siret"] == siret]
year = pick_year(c2, mine, "exe_annee")
direction = pick_direction(c3, "exe_sens")
if siret is None or year is None:
    st.info("Aucun compte administratif ni CFU n'est chargé.")
    st.stop()
# One executed document a year: a CA or, from the CFU on, a compte financier unique; the one
# uploaded in this session rather than the stored one.
doc = uploads_first(mine[mine["year"] == year]).iloc[0]
stage = str(doc["stage"])
frame = summary(analysis.execution, [str(doc["doc_key"])])
frame = frame[frame["direction"] == direction]
voted, done = frame["cred_ouv"].sum(), frame["mt_real"].sum()
m1, m2, m3 = st.columns(3)
m1.metric("Crédits ouverts", compact_euros(voted), help=f"Crédits ouverts : {euros(voted, 2)}")
m2.metric("Réalisé", compact_euros(done), help=f"Réalisé : {euros(done, 2)}")
m3.metric("Taux d'exécution", percent(float(done) / float(voted) if voted else None))
altair_chart(charts.execution_bars, frame, f"Exécution {stage} {year} par chapitre",
             key="chart_execution")
chart_data(frame[["chapter_code", "chapter_label", "cred_ouv", "mt_real", "mt_rar_3112",
                  "execution_rate"]].rename(columns={
    "chapter_code": "chapitre", "chapter_label": "libelle", "cred_ouv": "credits_ouverts",
    "mt_real": "realise", "mt_rar_3112": "restes_a_realiser", "execution_rate": "taux"}),
    f"execution_{siret}_{year}_{stage}_{direction}.csv", "download_execution",
    money=["credits_ouverts", "realise", "restes_a_realiser"], shares=["taux"], static=True)
st.caption("Crédits ouverts = budget primitif + budget supplémentaire + décisions "
           "modificatives, tels que le compte les rappelle ; opérations réelles. "
           f"Source : {md_escape(doc['source_file'])}"
           + (" (fichier déposé, non enregistré dans le cache)." if str(doc["doc_key"])
              in uploads() else "."))
