"""Accueil: what the tool is, what is loaded, and a search over every collectivité of France
that leads to its budgets, or says that none is published here and how to get its accounts."""

from typing import Any

import pandas as pd
import streamlit as st

from app_pages.catalogue import documents, published_documents
from budget_core import balance_catalogue
from budget_core.config import settings
from budget_core.fmt import md_escape, number
from budget_core.model import ENTITY_TYPE_LABELS
from budget_core.search import Collectivite, budgets_of, search_collectivites
from budget_core.selection import budget_labels

SHOWN = 10  # results listed; the query narrows the rest


def identity(hit: Collectivite) -> str:
    """`Commune · INSEE 93048 · SIREN 219300480 · 111 934 habitants`."""
    parts = [hit.kind_label() + (f" ({hit.detail})" if hit.detail else "")]
    if hit.kind == "commune" and hit.code:
        parts.append(f"INSEE {hit.code}")
    parts.append(f"SIREN {hit.siren}")
    if hit.population:
        parts.append(f"{number(hit.population)} habitants")
    if hit.found_by:
        parts.append(f"trouvé par : {hit.found_by}")
    return " · ".join(md_escape(part) for part in parts)


def with_documents(hit: Collectivite, docs: pd.DataFrame) -> None:
    """One link per budget of the collectivité, to Explorer on its newest document."""
    budgets = budgets_of(docs, hit.siren)
    for row, name in zip(budgets.to_dict("records"), budget_labels(budgets), strict=True):
        st.page_link("app_pages/explorer.py", icon=":material/search:",
                     label=f"{md_escape(name)} — {row['year']} {row['stage']}",
                     query_params={"siret": row["siret"], "etape": row["stage"],
                                   "annee": str(row["year"]), "doc": row["doc_key"]})


def balances_by_siren(rows: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """The CAs reconstituted from the DGFiP balances among `rows`, by SIREN (budget principal
    first, newest year first), each named (`name`): one pass for all the results, not a
    filter, a sort and a frame per link."""
    mine = rows[balance_catalogue.from_balances(rows)]
    mine = mine.sort_values(["budget_kind", "budget_label", "year"],
                            ascending=[False, True, False])
    mine = mine.assign(name=budget_labels(mine))
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in mine.to_dict("records"):
        grouped.setdefault(row["siren"], []).append(row)
    return grouped


def balance_links(balances: list[dict[str, Any]]) -> None:
    """Links to Explorer on each of a collectivité's CAs reconstituted from the DGFiP
    balances (`balances_by_siren`), marked as such."""
    for row in balances:
        st.page_link("app_pages/explorer.py", icon=":material/account_balance:",
                     label=f"{md_escape(row['name'])} — {row['year']} CA · comptes de "
                           "gestion DGFiP",
                     query_params={"siret": row["siret"], "etape": "CA",
                                   "annee": str(row["year"]), "doc": row["doc_key"]})


def without_documents(hit: Collectivite, balances: list[dict[str, Any]]) -> None:
    """What exists for a collectivité of which no document is published in the app's data:
    its CAs reconstituted from the DGFiP balances when the cache holds them (Explorer,
    Comparer and Évolution read them as documents). How to get its accounts is said once,
    below the results (`how_to_get_accounts`), not in each of them."""
    if balances:
        balance_links(balances)
        st.caption(f"Comptes administratifs reconstitués depuis les {balance_catalogue.SOURCE} : "
                   "les comptes du comptable public, pas les documents votés par la "
                   "collectivité.")
    st.markdown(f"Aucun document budgétaire de **{md_escape(hit.name)}** n'est publié dans "
                "les données de l'application (ni dans le jeu de démonstration, ni dans le "
                "cache local) : voir sous les résultats comment obtenir ses comptes.")


def how_to_get_accounts() -> None:
    """Where to get the accounts of the collectivités found that have no document here."""
    st.markdown(
        "Pour obtenir les comptes d'une collectivité sans document publié ici :\n"
        "- page **Données** : « Actualiser depuis les portails » télécharge les budgets "
        "publiés en données ouvertes (TOTEM, SCDL), ou déposez son fichier si vous l'avez ;\n"
        "- en ligne de commande : `python -m budget_core sync` (portails), "
        "`python -m budget_core national --year 2023` (comptes agrégés OFGL de toutes les "
        "collectivités, lus par la page **Se comparer**) ;\n"
        "- ses comptes de gestion (DGFiP), ceux de toutes les collectivités : page "
        "**Données**, « Balances comptables DGFiP », ou `python -m budget_core balances "
        "download --year 2024`.")
    st.page_link("app_pages/donnees.py", label="Aller à la page Données",
                 icon=":material/folder_open:")


st.title("Budgets des collectivités locales")
st.markdown(
    "Explorez les budgets publiés en données ouvertes par les communes, intercommunalités, "
    "départements, régions et syndicats (documents **TOTEM** et fichiers **SCDL budget**) : "
    "recettes et dépenses par chapitre, comparaisons, évolution, exécution.")

# A fragment: typing a query reruns the search and its results alone, not the counts and
# the table below (nor their redraw in the browser).
@st.fragment
def search(docs: pd.DataFrame) -> None:
    """The search box and, for a query, the collectivités found with their links."""
    query = st.text_input("Rechercher une collectivité : commune, intercommunalité, département, "
                          "région (nom, code INSEE, SIREN, SIRET ou code postal)",
                          key="q", bind="query-params",
                          placeholder="ex. Montreuil, st denis 974, 56470, 219300480")
    if query:
        found = search_collectivites(query, SHOWN, docs)
        # With the CAs of the DGFiP balances no published CA covers: the rows of the
        # collectivités found, in one pass over the catalogue (some 70 000 rows with the balances
        # of all France) instead of two per result.
        everything = documents()
        balances = balances_by_siren(
            everything[everything["siren"].isin({hit.siren for hit in found})])
        if not found:
            st.warning(f"Aucune collectivité ne correspond à « {md_escape(query)} » : vérifiez "
                       "l'orthographe, ou cherchez par code INSEE, SIREN ou code postal.")
        for rank, hit in enumerate(found):
            held = (f"{hit.documents} document{'s' if hit.documents > 1 else ''}"
                    if hit.documents else "aucun document publié ici")
            mine = balances.get(hit.siren, [])
            if mine:
                held += " · comptes de gestion DGFiP"
            with st.expander(f"{md_escape(hit.label())} — {held}", expanded=rank == 0):
                st.caption(identity(hit))
                if hit.documents:
                    with_documents(hit, docs)
                    balance_links(mine)
                else:
                    without_documents(hit, mine)
        if not all(hit.documents for hit in found):
            how_to_get_accounts()


docs = published_documents()
search(docs)

config = settings()
if config.is_demo:
    st.info("Jeu de démonstration embarqué : documents réels de Montreuil, Montpellier, Crach, "
            "Mohon, Saint-Malo Agglomération, Gironde Numérique et du Morbihan.",
            icon=":material/info:")

c1, c2, c3, c4 = st.columns(4)
c1.metric("Collectivités", docs["siren"].nunique())
c2.metric("Budgets", docs["siret"].nunique())
c3.metric("Documents", len(docs))
c4.metric("Années", f"{docs['year'].min()}–{docs['year'].max()}" if len(docs) else "—")

st.markdown("#### Données chargées")
summary = docs.groupby(["entity_type", "stage"]).size().rename("Documents").reset_index()
summary["entity_type"] = summary["entity_type"].map(ENTITY_TYPE_LABELS)
st.table(summary.rename(columns={"entity_type": "Type", "stage": "Étape"}), hide_index=True)
# The demo's folder named as in the repository: a citizen has no use for the server's path.
st.caption("Source des données : " + ("jeu de démonstration embarqué (budget_core/data/demo "
                                      "dans le dépôt)" if config.is_demo else str(config.data_dir)))
