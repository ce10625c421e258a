"""Streamlit entry point: only the router. Run with `streamlit run app.py`."""

# The pages live in app_pages/, not pages/: Streamlit 1.67 still runs a folder named pages/ as
# an old-style multipage app (file names in the sidebar) around st.navigation.

import streamlit as st

st.set_page_config(page_title="Budgets des collectivités", page_icon="📊", layout="wide")

PAGES = [
    st.Page("app_pages/accueil.py", title="Accueil", icon="🏠", url_path="accueil", default=True),
    st.Page("app_pages/explorer.py", title="Explorer un budget", icon="🔎", url_path="explorer"),
    st.Page("app_pages/comprendre.py", title="Comprendre un budget", icon="📖",
            url_path="comprendre"),
    st.Page("app_pages/comparer.py", title="Comparer", icon="⚖️", url_path="comparer"),
    st.Page("app_pages/comparer_national.py", title="Se comparer", icon="🧭",
            url_path="se-comparer"),
    st.Page("app_pages/evolution.py", title="Évolution", icon="📈", url_path="evolution"),
    st.Page("app_pages/execution.py", title="Prévu / réalisé", icon="🎯", url_path="execution"),
    st.Page("app_pages/publier.py", title="Publier mes données", icon="📤", url_path="publier"),
    st.Page("app_pages/donnees.py", title="Données", icon="🗂️", url_path="donnees"),
]
st.navigation(PAGES).run()
