"""Se comparer: an entity against similar ones (OFGL national accounts), and its indicators."""

from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import comparer_chapitres
from app_pages.catalogue import published_documents
from app_pages.common import altair_chart, chart_data, lines_for, url_multiselect, url_selectbox
from budget_core import charts, maps
from budget_core.config import settings
from budget_core.coverage import commune_map_departements, departements_with_shapes
from budget_core.fmt import compact_euros, euros, md_escape, number, percent, years
from budget_core.indicators import INDICATORS, from_lines, from_ofgl
from budget_core.national import CRITERION_LABELS, NationalStore, own_accounts
from budget_core.ofgl import CONSOLIDATED, HEADERS

LEVEL_LABELS = {"communes": "Communes", "gfp": "Intercommunalités (EPCI)",
                "departements": "Départements", "regions": "Régions"}
CRITERIA = CRITERION_LABELS
ANY = {"": "Toutes", "custom": "Liste personnalisée"}


@st.cache_resource(on_release=NationalStore.close)
def national(folder: str) -> NationalStore:
    return NationalStore(Path(folder), threads=settings().duckdb_threads)


@st.cache_data(show_spinner=False)
def entities(folder: str, level: str) -> pd.DataFrame:
    return national(folder).entities(level)


@st.cache_data(show_spinner=False)
def peer_columns(folder: str, level: str) -> list[str]:
    return national(folder).peer_columns(level)


def show(value: float | None, unit: str) -> str:
    """An indicator as a metric shows it: amounts compact like every metric of the app."""
    if unit == "%":
        return percent(value)
    if unit == "années":
        return years(value)
    return compact_euros(value) if unit == "€" else euros(value)


st.title("Se comparer")
folder = str(settings().national_dir)
store = national(folder)
MODES = {"agregats": "Agrégats (comptes OFGL)",
         "chapitres": "Par chapitre (balances comptables DGFiP, toute commune)"}
if st.query_params.get("mode") in MODES:  # the code in the link, not the label
    st.session_state.setdefault("mode", st.query_params["mode"])
mode = st.radio("Comparer", list(MODES), format_func=MODES.__getitem__, key="mode",
                horizontal=True)
st.query_params["mode"] = mode
if mode == "chapitres":
    comparer_chapitres.show(store)
    st.stop()
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
available = peer_columns(folder, level)
peers = {**{c: CRITERIA[c] for c in available}, **ANY}
peer = url_selectbox(c4, "Comparer avec", list(peers), "pairs", peers.__getitem__)
lacking = [label for c, label in CRITERIA.items() if c not in available
           and (c == "strate" or c in HEADERS[level].values())]
if lacking:
    c4.caption("Non renseigné dans les comptes OFGL de ce niveau : "
               + ", ".join(label.lower() for label in lacking) + ".")
custom: list[str] = []
if peer == "custom":
    custom = url_multiselect(st, "Collectivités de la liste", list(names), "liste",
                             names.__getitem__, default=[siren], max_selections=50)
placed = store.placement(level, siren, agregat, peer if peer not in ("", "custom") else None,
                         custom=custom)
population_year = rows["year"].max()
population = rows.loc[rows["year"] == population_year, "population"].dropna()
scope = ("comptes consolidés : budget principal et budgets annexes, flux croisés retirés"
         if (rows["budget_type"] == CONSOLIDATED).any() else "budget principal")
st.caption(f"Montants en € par habitant ; population totale INSEE {population_year} selon "
           f"l'OFGL ({number(population.iloc[0]) if len(population) else '—'} habitants). "
           f"Source : OFGL, comptes des collectivités ({scope}).")
if placed.empty and peer in CRITERIA and rows[peer].isna().all():
    st.info(f"Pas de groupe « {peers[peer].lower()} » : ce critère n'est pas renseigné pour "
            "cette collectivité dans les comptes OFGL. Choisissez un autre groupe.")
elif placed.empty:
    st.info("Pas de valeur pour cet agrégat.")
else:
    last = placed.iloc[-1]
    m1, m2, m3 = st.columns(3)
    m1.metric(f"{md_escape(names[siren])} ({int(last['year'])})",
              euros(last["value"], 2) + "/hab")
    m2.metric(f"Médiane du groupe ({int(last['peers'])} collectivités)",
              euros(last["median"], 2) + "/hab")
    m3.metric("Rang (1 = la plus élevée)", f"{int(last['rank'])} / {int(last['peers'])}")
    altair_chart(charts.peer_placement, placed, f"{agregat} : la collectivité parmi son "
                 "groupe (bande : du 1er au 3e quartile)", key="chart_pairs")
    chart_data(placed[["year", "value", "median", "q1", "q3", "rank", "peers"]].rename(
        columns={"year": "annee", "value": "valeur_par_habitant",
                 "median": "mediane_par_habitant", "q1": "premier_quartile",
                 "q3": "troisieme_quartile", "rank": "rang", "peers": "collectivites"}),
        f"se_comparer_{siren}_{agregat}.csv", "download_pairs",
        money=["valeur_par_habitant", "mediane_par_habitant", "premier_quartile",
               "troisieme_quartile"])

st.markdown("### Santé financière")
latest = rows[rows["year"] == rows["year"].max()]
ofgl_values = from_ofgl(latest)
ours = own_accounts(published_documents(), siren, int(rows["year"].max()))
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
if not values:
    st.info("Pas de carte par département : les comptes OFGL de ce niveau n'en donnent pas.")
elif set(values) & departements_with_shapes():
    st.vega_lite_chart(maps.departements(values, f"{agregat} : médiane par département "
                                         "(€/hab)", "€ par habitant", share=False),
                       key="carte_nationale")
    chart_data(by_departement.rename(columns={"code": "departement",
                                              "value": "mediane_par_habitant"}),
               f"carte_{level}_{agregat}.csv", "download_carte",
               money=["mediane_par_habitant"])
else:
    st.info("Les départements chargés (" + ", ".join(sorted(values)) + ") n'ont pas de "
            "contour dans la carte embarquée (métropole).")

departement = rows["departement_code"].dropna()
if level == "communes" and len(departement) and departement.iloc[0] in \
        commune_map_departements():
    code = str(departement.iloc[0])
    by_commune = store.commune_values(agregat, int(rows["year"].max()), code)
    st.vega_lite_chart(maps.communes(code, dict(zip(by_commune["code"], by_commune["value"],
                                                    strict=True)),
                                     f"{agregat} : communes du département {code} (€/hab)",
                                     "€ par habitant", share=False),
                       key="carte_communes_nationale")
    chart_data(by_commune.rename(columns={"code": "insee", "value": "valeur_par_habitant"}),
               f"carte_communes_{code}_{agregat}.csv", "download_carte_communes",
               money=["valeur_par_habitant"])
