"""Streamlit entry point: only the router. Run with `streamlit run app.py`."""

# Icons are Material Symbols, a font Streamlit ships: emoji need a colour-emoji font that
# workshop laptops and Debian do not always have (they showed as empty boxes).

# The pages live in app_pages/, not pages/: Streamlit 1.67 still runs a folder named pages/ as
# an old-style multipage app (file names in the sidebar) around st.navigation.

import streamlit as st

from app_pages.process import freeze_after_first_run, freeze_imported_modules

freeze_imported_modules()
st.set_page_config(page_title="Budgets des collectivités", page_icon="📊", layout="wide")

PAGES = [
    st.Page("app_pages/accueil.py", title="Accueil", icon=":material/home:", url_path="",
            default=True),
    st.Page("app_pages/explorer.py", title="Explorer un budget", icon=":material/search:",
            url_path="explorer"),
    st.Page("app_pages/comprendre.py", title="Comprendre un budget", icon=":material/school:",
            url_path="comprendre"),
    st.Page("app_pages/comparer.py", title="Comparer", icon=":material/balance:",
            url_path="comparer"),
    st.Page("app_pages/comparer_national.py", title="Se comparer", icon=":material/explore:",
            url_path="se-comparer"),
    st.Page("app_pages/evolution.py", title="Évolution", icon=":material/show_chart:",
            url_path="evolution"),
    st.Page("app_pages/execution.py", title="Prévu / réalisé", icon=":material/target:",
            url_path="execution"),
    st.Page("app_pages/publier.py", title="Publier mes données", icon=":material/upload:",
            url_path="publier"),
    st.Page("app_pages/donnees.py", title="Données", icon=":material/folder_open:",
            url_path="donnees"),
]
# The home page is served at "/"; "/accueil", which people type, would otherwise show
# Streamlit's English « Page not found »: a hidden page there leads home.
HOME_ALIAS = st.Page(lambda: st.switch_page(PAGES[0]), title="Accueil", url_path="accueil",
                     visibility="hidden")
page = st.navigation([*PAGES, HOME_ALIAS])
try:
    page.run()
finally:  # st.stop() and st.rerun() end a run by an exception
    freeze_after_first_run(page.url_path)
