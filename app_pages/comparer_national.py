"""Se comparer: an entity against similar ones (OFGL national accounts), and its indicators."""

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.common import documents, lines_for, url_multiselect, url_selectbox
from budget_core import charts
from budget_core.config import settings
from budget_core.coverage import (
    commune_map_departements,
    communes_shapes,
    departements_shapes,
)
from budget_core.fmt import euros, md_escape, percent
from budget_core.indicators import INDICATORS, from_lines, from_ofgl
from budget_core.national import NationalStore, own_accounts

LEVEL_LABELS = {"communes": "Communes", "gfp": "Intercommunalités (EPCI)",
                "departements": "Départements", "regions": "Régions"}
PEERS = {"strate": "Même strate de population", "departement_code": "Même département",
         "region_code": "Même région", "epci_siren": "Même intercommunalité",
         "fiscal_regime": "Même régime fiscal (EPCI)", "": "Toutes",
         "custom": "Liste personnalisée"}


@st.cache_resource(on_release=NationalStore.close)
def national(folder: str) -> NationalStore:
    return NationalStore(Path(folder), threads=settings().duckdb_threads)


@st.cache_data(show_spinner=False)
def entities(folder: str, level: str) -> pd.DataFrame:
    return national(folder).entities(level)


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return percent(value)
    if unit == "années":
        return f"{value:.1f} ans".replace(".", ",")
    return euros(value)


st.title("Se comparer")
folder = str(settings().national_dir)
store = national(folder)
levels = [level for level in LEVEL_LABELS if store.years(level)]
if not levels:
    st.info("Aucun compte national n'est chargé : « python -m budget_core national --year "
            "2023 » télécharge les comptes des communes depuis data.ofgl.fr.")
    st.stop()
c1, c2 = st.columns(2)
level = url_selectbox(c1, "Niveau", levels, "niveau", LEVEL_LABELS.__getitem__)
known = entities(folder, level)
names = dict(zip(known["siren"], known["name"] + " (" + known["departement_code"].fillna("")
                 + ")", strict=True))
siren = url_selectbox(c2, "Collectivité", list(names), "siren_national", names.__getitem__)
rows = store.entity(level, siren)
agregats = sorted(rows["agregat"].unique())
c3, c4 = st.columns(2)
agregat = url_selectbox(c3, "Agrégat", agregats, "agregat")
peer = url_selectbox(c4, "Comparer avec", list(PEERS), "pairs", PEERS.__getitem__)
custom: list[str] = []
if peer == "custom":
    custom = url_multiselect(st, "Collectivités de la liste", list(names), "liste",
                             names.__getitem__, default=[siren], max_selections=50)
placed = store.placement(level, siren, agregat, peer if peer not in ("", "custom") else None,
                         custom=custom)
population_year = rows["year"].max()
population = rows.loc[rows["year"] == population_year, "population"].dropna()
st.caption(f"Montants en € par habitant ; population totale INSEE {population_year} selon "
           f"l'OFGL ({int(population.iloc[0]) if len(population) else '—'} habitants). "
           "Source : OFGL, comptes des collectivités (budget principal).")
if placed.empty:
    st.info("Pas de valeur pour cet agrégat.")
else:
    last = placed.iloc[-1]
    m1, m2, m3 = st.columns(3)
    m1.metric(f"{md_escape(names[siren])} ({int(last['year'])})",
              euros(last["value"], 2) + "/hab")
    m2.metric(f"Médiane du groupe ({int(last['peers'])} collectivités)",
              euros(last["median"], 2) + "/hab")
    m3.metric("Rang (1 = la plus élevée)", f"{int(last['rank'])} / {int(last['peers'])}")
    band = alt.Chart(placed).mark_area(opacity=0.25, color="#56B4E9").encode(
        x=alt.X("year:O", title="Exercice"), y=alt.Y("q1:Q", title="€ par habitant"),
        y2="q3:Q")
    median = alt.Chart(placed).mark_line(color="#0072B2", strokeDash=[6, 3]).encode(
        x="year:O", y="median:Q")
    mine = alt.Chart(placed).mark_line(point=True, color="#D55E00").encode(
        x="year:O", y="value:Q",
        tooltip=[alt.Tooltip("year:O", title="Exercice"),
                 alt.Tooltip("value:Q", title="Collectivité", format=".2f"),
                 alt.Tooltip("median:Q", title="Médiane", format=".2f"),
                 alt.Tooltip("rank:Q", title="Rang")])
    st.altair_chart(alt.layer(band, median, mine, title=f"{agregat} : la collectivité "
                              "(orange), la médiane (tirets) et le 1er–3e quartile du groupe")
                    .configure(locale=charts.FRENCH), key="chart_pairs")

st.markdown("### Santé financière")
latest = rows[rows["year"] == rows["year"].max()]
ofgl_values = from_ofgl(latest)
ours = own_accounts(documents(), siren, int(rows["year"].max()))
own_values = None
if not ours.empty:
    own = lines_for(ours["doc_key"])
    own_values = from_lines(own, population=float(population.iloc[0]) if len(population)
                            else None)
for indicator in INDICATORS:
    with st.container(border=True):
        left, right = st.columns([1, 2])
        left.metric(indicator.label, show(ofgl_values[indicator.key], indicator.unit),
                    help="OFGL")
        if own_values is not None:
            left.caption(f"Depuis le compte publié : "
                         f"{show(own_values[indicator.key], indicator.unit)}")
        right.markdown(indicator.definition)
        if indicator.key == "capacite_desendettement" and ofgl_values["epargne_brute"] is not \
                None and ofgl_values["epargne_brute"] <= 0:
            right.warning("Épargne brute négative ou nulle : la capacité de désendettement "
                          "n'a pas de sens cette année.")

st.markdown("### Carte")
by_departement = store.departement_medians(level, agregat, int(rows["year"].max()))
values = dict(zip(by_departement["code"], by_departement["value"], strict=True))
present = [f for f in departements_shapes()["features"] if f["properties"]["code"] in values]
if present:
    st.altair_chart(charts.choropleth({"features": present}, values,
                                      f"{agregat} : médiane par département (€/hab)",
                                      "€ par habitant", share=False), key="carte_nationale")
else:
    st.info("Les départements chargés (" + ", ".join(sorted(values)) + ") n'ont pas de "
            "contour dans la carte embarquée (métropole).")

departement = rows["departement_code"].dropna()
if level == "communes" and len(departement) and departement.iloc[0] in \
        commune_map_departements():
    code = str(departement.iloc[0])
    by_commune = store.commune_values(agregat, int(rows["year"].max()), code)
    st.altair_chart(charts.choropleth(
        communes_shapes(code), dict(zip(by_commune["code"], by_commune["value"], strict=True)),
        f"{agregat} : communes du département {code} (€/hab)", "€ par habitant", share=False),
        key="carte_communes_nationale")
