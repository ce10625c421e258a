"""Données: an upload opened in Explorer in one click (first: it is what users come for), what
is loaded, the portals' catalogue and its refresh."""

import streamlit as st

from app_pages import donnees_balances
from app_pages.catalogue import stored_documents
from app_pages.common import keep_upload, parsed_upload, show_error, upload_widget
from app_pages.drawing import show_table
from budget_core import analysis
from budget_core.cache import Cache
from budget_core.config import settings
from budget_core.errors import BudgetError
from budget_core.fmt import compact_euros, euros, md_escape
from budget_core.http import Http, make_session
from budget_core.model import BudgetDocument
from budget_core.sources import PublishedResource, load_portals, source_for

st.title("Données")
config = settings()
cache = Cache(config.cache_dir)
st.markdown("#### Explorer un fichier")
upload = upload_widget("Document TOTEM (XML) ou CSV SCDL budget", "upload")
uploaded: list[BudgetDocument] = []
if upload is not None:
    try:
        uploaded = parsed_upload(upload[0], upload[1])
    except BudgetError as exc:
        show_error(exc)
for document in uploaded:
    info = document.info
    key = keep_upload(document)
    st.success(f"{md_escape(info.entity_name)} — {md_escape(info.budget_label)} — "
               f"{info.stage} {info.year} : "
               f"{len(document.lines)} lignes ({info.nomenclature}/{info.declinaison}).")
    for warning in document.warnings:
        st.warning(md_escape(warning))
    table = analysis.by_chapter(document.lines)
    m1, m2 = st.columns(2)
    for box, direction, title in ((m1, "recette", "Recettes réelles"),
                                  (m2, "depense", "Dépenses réelles")):
        total = table.loc[table["direction"] == direction, "amount"].sum()
        box.metric(title, compact_euros(total), help=f"{title} : {euros(total, 2)}")
    st.page_link("app_pages/explorer.py", icon=":material/search:",
                 label=f"Explorer ce document : graphiques, politiques publiques, détail "
                       f"({md_escape(info.entity_name)} {info.stage} {info.year})",
                 query_params={"siret": info.siret, "etape": info.stage,
                               "annee": str(info.year), "doc": key})
if uploaded:
    st.caption("Le document reste disponible sur toutes les pages pendant cette session, sans "
               "être enregistré dans le cache.")
    if st.button("Ajouter au cache local", key="add_cache"):
        count = cache.store.add(uploaded)
        st.success(f"{count} document(s) ajouté(s) au cache {cache.store.folder} : "
                   "l'application lit désormais ce cache.")

donnees_balances.show()

docs = stored_documents()
st.markdown("#### Documents chargés")
show_table(docs[["entity_name", "budget_label", "year", "stage", "nomenclature",
                 "source_file", "source_format", "line_count", "source_sha256"]].rename(
    columns={"entity_name": "Collectivité", "budget_label": "Budget", "year": "Année",
             "stage": "Étape", "nomenclature": "Nomenclature", "source_file": "Fichier",
             "source_format": "Format", "line_count": "Lignes", "source_sha256": "SHA-256"}),
    counts=["Lignes"])

st.markdown("#### Sources publiées sur les portails")
portals = [p for p in load_portals(config.cache_dir) if p.enabled]
st.caption("Portails interrogés : " + ", ".join(f"{p.name} ({p.kind})" for p in portals)
           + f". Cache local : {config.cache_dir}.")
if st.button("Actualiser depuis les portails", key="refresh"):
    with st.status("Synchronisation avec les portails…", expanded=True) as status:
        bar = st.progress(0.0)

        def advance(number: int, total: int, resource: PublishedResource) -> None:
            bar.progress(number / total, text=f"{number}/{total} — {resource.title}")

        try:
            summary = cache.sync([source_for(p) for p in portals], Http(make_session()),
                                 progress=advance)
        except BudgetError as exc:
            status.update(label="Synchronisation impossible", state="error")
            show_error(exc)
        else:
            status.update(label=summary.french().splitlines()[0],
                          state="error" if summary.failed else "complete")
            for what, why in summary.failed:
                st.warning(md_escape(f"{what} : {why}"))
resources = cache.resources()
if resources.empty:
    st.info("Aucune ressource n'a encore été synchronisée : l'application montre le jeu de "
            "démonstration embarqué.")
else:
    st.dataframe(resources[["source", "dataset_title", "title", "url", "fetched_at",
                            "sha256", "status", "error"]], hide_index=True, width="stretch",
                 column_config={"source": "Portail", "dataset_title": "Jeu de données",
                                "title": "Fichier", "fetched_at": "Téléchargé le",
                                "sha256": "SHA-256", "status": "État", "error": "Erreur"})
