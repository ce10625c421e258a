"""Explorer un budget: recettes and dépenses by chapter, drill-down, table and downloads."""

from functools import partial

import pandas as pd
import streamlit as st

from app_pages.catalogue import picker_index, uploads
from app_pages.common import (
    pick_direction,
    pick_document,
    source_notes,
    summary,
    url_selectbox,
    workshop_mode,
)
from app_pages.drawing import altair_chart, chart_data, plotly_chart, show_table
from app_pages.filters import DOCUMENT_WIDGETS, document_key, picked_apart
from budget_core import analysis, charts
from budget_core.fmt import compact_euros, euros, md_escape
from budget_core.model import EXECUTED_STAGES
from budget_core.scdl import csv_safe_bytes
from budget_core.selection import document_label

st.title("Explorer un budget")
atelier = workshop_mode()
index = picker_index()
if index.options.empty:
    st.info("Aucun budget n'est chargé. Ajoutez un fichier depuis la page Données.")
    st.stop()


def choose() -> tuple[pd.Series | None, bool]:
    """The document and whether order operations are included, picked in the filters."""
    filters = st.sidebar if atelier else st.container()
    who = filters.columns([1, 3]) if not atelier else [filters] * 2
    what = filters.columns(4) if not atelier else [filters] * 4
    doc = pick_document(index, *who, *what[:3])
    include_order = what[3].toggle("Inclure les opérations d'ordre", key="ordre",
                                   bind="query-params",
                                   help="Les opérations d'ordre (amortissements, virements "
                                        "entre sections) ne sont pas des flux d'argent : les "
                                        "inclure compte deux fois les mêmes montants.")
    return doc, include_order


doc, include_order = picked_apart(choose, lambda chosen: (document_key(chosen[0]),
                                                          chosen[1]), "explorer_drawn",
                                  (*DOCUMENT_WIDGETS, "ordre"))
if doc is None:
    st.info("Aucun budget ne correspond à ces filtres : changez le type, l'étape ou l'année.")
    st.stop()

key, stage = str(doc["doc_key"]), str(doc["stage"])
st.subheader(f"{md_escape(doc['entity_name'])} — {md_escape(doc['budget_label'])} — "
             f"{md_escape(document_label(doc))}")
amount_kind = "réalisé" if stage in EXECUTED_STAGES else "voté"
operations = "toutes opérations" if include_order else "opérations réelles"
st.caption(f"Montants {amount_kind}s, {operations}, hors résultats reportés (001/002). "
           f"Nomenclature {md_escape(doc['nomenclature'])} "
           f"({md_escape(doc['declinaison'])}), plan de comptes {doc['plan_year']}. "
           f"Source : {md_escape(doc['source_file'])}"
           + (" (fichier déposé, non enregistré dans le cache)." if key in uploads()
              else "."))
budget = index.rows_of(doc["siret"])
source_notes(budget[budget["doc_key"] == key])
if stage == "DM":
    st.info("Une décision modificative ajoute ou retire des crédits au budget déjà voté : ses "
            "montants sont des variations (positives ou négatives), pas un budget complet. "
            "Chaque DM est un document à part.")

table = summary(analysis.by_chapter, [key], include_order=include_order)
income = table[table["direction"] == "recette"]
spending = table[table["direction"] == "depense"]
totals = {"Recettes": income["amount"].sum(), "Dépenses": spending["amount"].sum()}
totals["Solde"] = totals["Recettes"] - totals["Dépenses"]
for box, (name, total) in zip(st.columns(3), totals.items(), strict=True):
    box.metric(name, compact_euros(total), help=f"{name} : {euros(total, 2)}")

left, right = st.columns(2)
altair_chart(charts.chapter_bars, income, "D'où vient l'argent (recettes par chapitre)",
             key="chart_recettes", box=left)
altair_chart(charts.chapter_bars, spending, "Où va l'argent (dépenses par chapitre)",
             key="chart_depenses", box=right)
# Its tables static (`show_table`): an expander opened stays open for the next budgets, and a
# grid redraws its hidden screen-reader table 200 ms after each change of data (issue 13).
chart_data(table.rename(columns={"direction": "sens", "chapter_code": "chapitre",
                                 "chapter_label": "libelle", "amount": "montant"}),
           f"budget_{key}_chapitres.csv", "download_csv", money=["montant"], static=True)

# Drawn when opened (which reruns the page), and kept open for the next budgets: Plotly
# builds a new Sankey at each change of budget (its element is named by its figure), the last
# and largest part of the browser's work then (issue 13).
with st.expander("Des recettes aux dépenses, par section (diagramme de flux)",
                 key="flux_ouvert", on_change="rerun") as flows:
    if flows.open:
        plotly_chart(charts.money_flow_sankey, analysis.money_flows(table),
                     "Des recettes aux dépenses, par section", key="sankey",
                     config={"displayModeBar": False})

st.markdown("#### Par politique publique")
policies = summary(analysis.by_policy, [key], include_order=include_order)
if policies.empty:
    st.info("Ce document ne présente pas ses crédits par fonction : la répartition par "
            "politique publique (enseignement, culture, action sociale...) n'y figure pas.")
else:
    spent = policies[policies["direction"] == "depense"].rename(
        columns={"policy_code": "chapter_code", "policy_label": "chapter_label"})
    altair_chart(charts.chapter_bars, spent, "Dépenses par politique publique (fonction)",
                 key="chart_politiques")
    chart_data(spent.rename(columns={"direction": "sens", "chapter_code": "fonction",
                                     "chapter_label": "libelle", "amount": "montant"}),
               f"budget_{key}_politiques.csv", "download_politiques", money=["montant"],
               title="Données par politique publique", static=True)
    st.caption("Fonctions de premier niveau de la présentation fonctionnelle du document "
               f"(plan de comptes {doc['declinaison']} {doc['plan_year']}) ; « 01 » regroupe "
               "les opérations non ventilables (dette, impôts reversés, provisions).")

# A fragment: its three widgets rerun this part alone (with the arguments of the page's last
# run), not the charts above.
@st.fragment
def chapter_detail(table: pd.DataFrame, key: str, include_order: bool) -> None:
    st.markdown("#### Détail d'un chapitre")
    d1, d2, d3 = st.columns([1, 3, 1])
    direction = pick_direction(d1, "sens")
    chapters = table[table["direction"] == direction]
    labels = dict(zip(chapters["chapter_code"],
                      chapters["chapter_code"] + " — " + chapters["chapter_label"], strict=True))
    chapter = url_selectbox(d2, "Chapitre", list(labels), "chapitre",
                            labels.__getitem__) if labels else None
    by = d3.radio("Par", ["nature", "fonction"], key="par", bind="query-params",
                  format_func={"nature": "Nature", "fonction": "Fonction"}.__getitem__)
    if chapter is None:
        return
    detail = summary(analysis.drill_down, [key], chapter_code=chapter, direction=direction,
                     by=by, include_order=include_order)
    if by == "fonction" and detail[f"{by}_code"].eq("").all():
        st.info("Ce document ne présente pas ses crédits par fonction.")
    else:
        # A static table (`show_table`), its rows by amount: the grid's hidden table for
        # screen readers, refreshed 200 ms after its canvas, was the last thing drawn at a
        # change of budget (issue 13). Its CSV beside it, made when the button is clicked.
        shown = detail.rename(columns={f"{by}_code": "Code", f"{by}_label": "Libellé",
                                       "amount": "Montant"})
        show_table(shown, money=["Montant"], static=True)
        st.download_button("Télécharger ce détail (CSV)", partial(csv_safe_bytes, shown),
                           file_name=f"budget_{key}_{direction}_{chapter}_{by}.csv",
                           mime="text/csv", key="download_detail", on_click="ignore")


chapter_detail(table, key, include_order)
