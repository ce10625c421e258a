"""Données: the catalogue of what is loaded, and an upload explored at once."""

import streamlit as st

from app_pages.common import documents, show_error
from budget_core import analysis
from budget_core.config import settings
from budget_core.errors import BudgetError
from budget_core.fmt import euros
from budget_core.formats import read_uploaded
from budget_core.store import Store

MAX_UPLOAD_MB = 200

st.title("Données")
docs = documents()
st.markdown("#### Documents chargés")
st.dataframe(docs[["entity_name", "budget_label", "year", "stage", "nomenclature",
                   "source_file", "source_format", "line_count", "source_sha256"]],
             hide_index=True, width="stretch", column_config={
                 "entity_name": "Collectivité", "budget_label": "Budget", "year": "Année",
                 "stage": "Étape", "source_file": "Fichier", "source_format": "Format",
                 "line_count": "Lignes", "source_sha256": "SHA-256"})

st.markdown("#### Explorer un fichier")
upload = st.file_uploader("Document TOTEM (XML) ou CSV SCDL budget", type=["xml", "csv"],
                          key="upload")
if upload is not None:
    if upload.size > MAX_UPLOAD_MB * 1_000_000:
        st.error(f"Fichier trop volumineux ({upload.size / 1e6:.0f} Mo) : {MAX_UPLOAD_MB} Mo "
                 "au plus.")
        st.stop()
    try:
        uploaded = read_uploaded(upload.getvalue(), upload.name)
    except BudgetError as exc:
        show_error(exc)
        st.stop()
    for document in uploaded:
        info = document.info
        st.success(f"{info.entity_name} — {info.budget_label} — {info.stage} {info.year} : "
                   f"{len(document.lines)} lignes ({info.nomenclature}/{info.declinaison}).")
        for warning in document.warnings:
            st.warning(warning)
        table = analysis.by_chapter(document.lines)
        for direction, title in (("recette", "Recettes réelles"), ("depense",
                                                                    "Dépenses réelles")):
            part = table[table["direction"] == direction]
            st.metric(title, euros(part["amount"].sum()))
    if st.button("Ajouter au cache local", key="add_cache"):
        target = Store(settings().cache_dir / "store")
        count = target.add(uploaded)
        st.success(f"{count} document(s) ajouté(s) au cache {target.folder}. Rechargez la page "
                   "pour les explorer.")
