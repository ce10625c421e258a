"""Évolution: one budget over the years, by chapter and in total, for the stage chosen."""

import streamlit as st

from app_pages.catalogue import catalogue_versions, picked, picker_index
from app_pages.common import (
    pick_direction,
    pick_entity,
    pick_stage,
    summary,
    url_multiselect,
    workshop_mode,
)
from app_pages.drawing import altair_chart, chart_data, chart_title
from app_pages.evolution_work import by_year, notes
from budget_core import analysis, charts, population

st.title("Évolution sur plusieurs années")
workshop_mode()
docs = picked("evolution")  # budgets with two years or more of a stage
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
siret = pick_entity(picker_index("evolution"), key="evo_siret", container=c1)
mine = docs[docs["siret"] == siret]
stage = pick_stage(mine, key="evo_etape", container=c2)
direction = pick_direction(c3, "evo_sens")
per_head = c4.toggle("En € par habitant", key="evo_hab", bind="query-params")
chosen_docs = mine[mine["stage"] == stage].sort_values("year")
if len(chosen_docs) < 2:
    st.info("Ce budget n'a qu'une année publiée pour cette étape : choisissez-en un autre "
            "(Montreuil a ses comptes administratifs 2016 à 2023).")
    st.stop()
keys = list(chosen_docs["doc_key"])
heads = {int(row["year"]): population.of_document(str(row["siren"]), row["population"],
                                                 int(row["year"]))
         for row in chosen_docs.to_dict("records")}
people = {year: head.value for year, head in heads.items()}
versions = catalogue_versions()
frame, totals, top, labels = by_year(tuple(keys), direction, tuple(people.items()), versions)
# Chapters chosen for Dépenses do not apply to Recettes: a change of Sens starts afresh.
if st.session_state.get("evo_chapitres_sens", direction) != direction:
    st.session_state.pop("evo_chapitres", None)
    st.query_params.pop("evo_chapitres", None)
st.session_state["evo_chapitres_sens"] = direction
changes = summary(analysis.nomenclature_changes, keys)
value = "per_inhabitant" if per_head else "amount"
sens = "Dépenses" if direction == "depense" else "Recettes"
unit = f" ({charts.PER_HEAD})" if per_head else ""
# Each chart's title above it, not in its spec (charts.evolution_total): another « Sens » or
# unit is new rows for the Vega views the browser has.
chart_title(f"{sens} réelles : total par année{unit}")
altair_chart(charts.evolution_total, totals, changes, value, key="chart_evolution_total")
chart_data(totals[["year", "amount", "change", "population", "per_inhabitant",
                   "change_per_inhabitant"]].rename(
    columns={"year": "exercice", "amount": "montant", "change": "evolution_sur_un_an",
             "per_inhabitant": "par_habitant",
             "change_per_inhabitant": "evolution_par_habitant_sur_un_an"}),
    f"evolution_{siret}_{stage}_{direction}_total.csv", "download_evolution_total",
    money=["montant", "par_habitant"], counts=["population"],
    shares=["evolution_sur_un_an", "evolution_par_habitant_sur_un_an"], static=True)


# A fragment: a change of chapters reruns their picker and chart alone, not the page above it
# (its metrics, the totals' chart), which the chapters do not change.
@st.fragment
def by_chapter() -> None:
    chapters = url_multiselect(st, "Chapitres", sorted(labels), "evo_chapitres",
                               labels.__getitem__, default=top, max_selections=12)
    chart_title(f"{sens} réelles par chapitre{unit}")
    altair_chart(charts.evolution_lines, frame[frame["chapter_code"].isin(chapters)],
                 changes, value, key="chart_evolution")


by_chapter()
chart_data(frame.rename(columns={"year": "exercice", "direction": "sens",
                                 "chapter_code": "chapitre", "chapter_label": "libelle",
                                 "amount": "montant", "per_inhabitant": "par_habitant"}),
           f"evolution_{siret}_{stage}_{direction}.csv", "download_evolution",
           money=["montant", "par_habitant"], counts=["population"], static=True)
notes(chosen_docs, changes, tuple(sorted({head.french() for head in heads.values()})),
      versions)
