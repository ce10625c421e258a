"""Streamlit entry point: only the router. Run with `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="Budgets des collectivités", page_icon="📊", layout="wide")

PAGES = [
    st.Page("pages/accueil.py", title="Accueil", icon="🏠", url_path="accueil", default=True),
    st.Page("pages/explorer.py", title="Explorer un budget", icon="🔎", url_path="explorer"),
    st.Page("pages/comparer.py", title="Comparer", icon="⚖️", url_path="comparer"),
    st.Page("pages/evolution.py", title="Évolution", icon="📈", url_path="evolution"),
    st.Page("pages/execution.py", title="Prévu / réalisé", icon="🎯", url_path="execution"),
    st.Page("pages/donnees.py", title="Données", icon="🗂️", url_path="donnees"),
]
st.navigation(PAGES).run()
