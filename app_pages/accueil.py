"""Accueil: what the tool is, what is loaded, and a search that leads to a budget."""

import streamlit as st

from app_pages.common import documents, entity_label
from budget_core.config import settings
from budget_core.fmt import md_escape
from budget_core.model import ENTITY_TYPE_LABELS
from budget_core.search import find_budgets

st.title("Budgets des collectivités locales")
st.markdown(
    "Explorez les budgets publiés en données ouvertes par les communes, intercommunalités, "
    "départements, régions et syndicats (documents **TOTEM** et fichiers **SCDL budget**) : "
    "recettes et dépenses par chapitre, comparaisons, évolution, exécution.")

docs = documents()
config = settings()
if config.is_demo:
    st.info("Jeu de démonstration embarqué : documents réels de Montreuil, Montpellier, Crach, "
            "Mohon, Saint-Malo Agglomération, Gironde Numérique et du Morbihan.", icon="ℹ️")

c1, c2, c3, c4 = st.columns(4)
c1.metric("Collectivités", docs["siren"].nunique())
c2.metric("Budgets", docs["siret"].nunique())
c3.metric("Documents", len(docs))
c4.metric("Années", f"{docs['year'].min()}–{docs['year'].max()}" if len(docs) else "—")

query = st.text_input("Rechercher une collectivité (nom, SIREN, SIRET ou code INSEE)",
                      key="q", bind="query-params", placeholder="ex. Montreuil, 219300480")
if query:
    found = find_budgets(docs, query)
    if found.empty:
        st.warning(f"Aucune collectivité ne correspond à « {md_escape(query)} ».")
    for row in found.itertuples():
        st.page_link("app_pages/explorer.py", label=f"{md_escape(entity_label(row._asdict()))} — "
                     f"{row.year} {row.stage}", icon="🔎",
                     query_params={"siret": row.siret, "etape": row.stage,
                                   "annee": str(row.year), "doc": row.doc_key})

st.markdown("#### Données chargées")
summary = docs.groupby(["entity_type", "stage"]).size().rename("documents").reset_index()
summary["entity_type"] = summary["entity_type"].map(ENTITY_TYPE_LABELS)
st.dataframe(summary.rename(columns={"entity_type": "Type", "stage": "Étape"}),
             hide_index=True)
st.caption(f"Source des données : {config.data_dir}")
