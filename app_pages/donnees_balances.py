"""Données, the DGFiP balances: what the cache holds, a year downloaded from the portal (by
département, resumable), an export already downloaded imported. Drawn by donnees.py."""

import datetime

import streamlit as st

from app_pages.catalogue import balances
from app_pages.common import show_error, upload_widget
from budget_core.balance_download import SOURCE, download, import_bytes, portal_url
from budget_core.balances import LEVELS, ImportReport
from budget_core.config import settings
from budget_core.errors import BudgetError
from budget_core.fmt import md_escape
from budget_core.http import Http, make_session

LEVEL_LABELS = {"communes": "Communes", "gfp": "Intercommunalités à fiscalité propre",
                "departements": "Départements", "regions": "Régions",
                "syndicats": "Syndicats", "epl": "Établissements publics locaux"}


def _done(report: ImportReport) -> None:
    first, *rest = report.french().splitlines()
    st.success(md_escape(first) + " : les pages lisent désormais ces comptes (comptes de "
               "gestion DGFiP).")
    for line in rest:
        st.warning(md_escape(line))


def _download() -> None:
    c1, c2 = st.columns(2)
    level = c1.selectbox("Niveau", list(LEVEL_LABELS), format_func=LEVEL_LABELS.__getitem__,
                         key="bal_niveau")
    year = c2.number_input("Exercice", min_value=2010, max_value=datetime.date.today().year,
                           value=datetime.date.today().year - 2, step=1, key="bal_annee")
    codes = st.text_input("Départements (facultatif)", key="bal_departements",
                          placeholder="ex. 038, 073 — vide : toute la France",
                          help="Codes ndept sur 3 caractères, séparés par des virgules.")
    if not st.button("Télécharger l'exercice", key="bal_telecharger"):
        return
    parts = [code.strip().upper() for code in codes.split(",") if code.strip()]
    with st.status(f"Téléchargement des balances {LEVEL_LABELS[level].lower()} {year}…",
                   expanded=True) as status:
        bar = st.progress(0.0, text="Liste des départements…")

        def advance(number: int, total: int, code: str) -> None:
            bar.progress(number / total, text=f"Département {code} ({number}/{total})")

        try:
            portal = portal_url(settings().cache_dir, SOURCE)
            report = download(balances(), Http(make_session(), timeout=120.0), portal, level,
                              int(year), departements=parts, progress=advance)
        except BudgetError as exc:
            status.update(label="Téléchargement interrompu : les départements déjà reçus "
                                "sont gardés, relancez pour reprendre.", state="error")
            show_error(exc)
            return
        bar.progress(1.0, text="Terminé")
        status.update(label=f"Exercice {year} chargé ({len(report.parts)} département(s))",
                      state="complete")
    _done(report)


def _import() -> None:
    level = st.selectbox("Niveau de l'export", list(LEVEL_LABELS),
                         format_func=LEVEL_LABELS.__getitem__, key="bal_import_niveau")
    upload = upload_widget("Export CSV des balances comptables", "bal_fichier", kinds=("csv",),
                           what="Export CSV d'un jeu « balances comptables » de "
                                "data.economie.gouv.fr",
                           smaller="Importez-le en ligne de commande : python -m budget_core "
                                   "balances import FICHIER.")
    if upload is None or not st.button("Importer", key="bal_importer"):
        return
    with st.spinner("Import des balances…"):
        try:
            report = import_bytes(balances(), upload[1], upload[0], level)
        except BudgetError as exc:
            show_error(exc)
            return
    _done(report)


# A fragment: its widgets (the way, the level, the year, the départements) rerun this part
# alone, not the page's grids of documents and resources below, which they do not change (an
# import changes the balances, read by the other pages, not the store listed below).
@st.fragment
def show() -> None:
    st.markdown("#### Balances comptables DGFiP : les comptes de chaque budget")
    st.markdown(
        "Les comptes de gestion de **toutes** les collectivités (communes, EPCI, "
        "départements, régions, syndicats), compte par compte, publiés par la DGFiP sur "
        "data.economie.gouv.fr. Ils donnent un compte administratif reconstitué à toute "
        "collectivité qui n'a pas publié le sien, et la comparaison par chapitre de la page "
        "**Se comparer**.")
    st.caption("Un exercice des communes pèse environ 950 Mo de CSV sur le portail "
               "(près de 7 millions de lignes), reçus en une centaine de parts, une par "
               "département : un téléchargement interrompu reprend au département suivant. "
               "Stocké en parquet, il occupe environ un cinquième de cette taille (plus les "
               "parts gardées pour reconstruire l'exercice).")
    # One of the two at a time (not tabs): the page's first file input stays the document's.
    ways = {"telecharger": "Télécharger un exercice",
            "importer": "Importer un export déjà téléchargé"}
    way = st.radio("Balances", list(ways), format_func=ways.__getitem__, horizontal=True,
                   key="bal_mode", label_visibility="collapsed")
    if way == "telecharger":
        _download()
    else:
        _import()
    held = {level: balances().years(level) for level in LEVELS}  # after this run's import
    loaded = [f"{LEVEL_LABELS[level].lower()} {', '.join(map(str, years))}"
              for level, years in held.items() if years]
    st.caption("Balances en cache : " + ("; ".join(loaded) if loaded else "aucun exercice")
               + ".")
