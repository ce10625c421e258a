"""Se comparer: an entity against similar ones (OFGL national accounts), and its indicators."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from app_pages import comparer_chapitres
from app_pages.catalogue import published_documents
from app_pages.common import (
    remembered_siren,
    summary,
    url_multiselect,
    url_selectbox,
    write_param,
)
from app_pages.drawing import altair_chart, chart_data, chart_title
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
Answer = TypeVar("Answer")


@st.cache_resource(on_release=NationalStore.close)
def national(folder: str) -> NationalStore:
    return NationalStore(Path(folder), threads=settings().duckdb_threads)


@st.cache_data(show_spinner=False, max_entries=256)
def _asked(folder: str, files: tuple[tuple[str, int], ...], question: str,
           args: tuple[Any, ...]) -> Any:
    return getattr(national(folder), question)(*args)


def ask(question: Callable[..., Answer], *args: Any) -> Answer:
    """`NationalStore.<question>(*args)` on the national folder, cached by its arguments and
    the files' version: choosing again a collectivité, an agrégat or a group already shown
    (or another collectivité, for the map's medians) runs no query (about 10 ms each)."""
    answer: Answer = _asked(FOLDER, national(FOLDER).version(), question.__name__, args)
    return answer


@st.cache_resource(show_spinner=False, max_entries=8)
def _names(folder: str, files: tuple[tuple[str, int], ...], level: str) -> dict[str, str]:
    # A resource, not a copy: the picker only reads it (some 35 000 communes).
    known = national(folder).entities(level)
    return dict(zip(known["siren"], known["name"] + " ("
                    + known["departement_code"].fillna("") + ")", strict=True))


@st.cache_data(show_spinner=False, max_entries=64)
def _entity(folder: str, files: tuple[tuple[str, int], ...], level: str, siren: str
            ) -> dict[str, Any]:
    """What the page shows of an entity's rows whatever the agrégat and group: kept as plain
    values, not the rows (the sums and filters took a tenth of a rerun)."""
    rows = national(folder).entity(level, siren)
    year = int(rows["year"].max())
    latest = rows[rows["year"] == year]
    population = latest["population"].dropna()
    departement = rows["departement_code"].dropna()
    return {"agregats": sorted(rows["agregat"].unique()), "year": year,
            "population": float(population.iloc[0]) if len(population) else None,
            "consolidated": bool((rows["budget_type"] == CONSOLIDATED).any()),
            "ofgl": from_ofgl(latest),
            "departement": str(departement.iloc[0]) if len(departement) else None,
            "no_criterion": [c for c in CRITERIA if c in rows and rows[c].isna().all()]}


def show(value: float | None, unit: str) -> str:
    """An indicator as a metric shows it: amounts compact like every metric of the app."""
    if unit == "%":
        return percent(value)
    if unit == "années":
        return years(value)
    return compact_euros(value) if unit == "€" else euros(value)


st.title("Se comparer")
FOLDER = str(settings().national_dir)
store = national(FOLDER)
MODES = {"agregats": "Agrégats (comptes OFGL)",
         "chapitres": "Par chapitre (balances comptables DGFiP, toute commune)"}
if st.query_params.get("mode") in MODES:  # the code in the link, not the label
    st.session_state.setdefault("mode", st.query_params["mode"])
mode = st.radio("Comparer", list(MODES), format_func=MODES.__getitem__, key="mode",
                horizontal=True)
write_param("mode", mode)
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
names = _names(FOLDER, store.version(), level)
siren = url_selectbox(c2, "Collectivité", list(names), "siren_national", names.__getitem__,
                      fallback=remembered_siren())
entity = _entity(FOLDER, store.version(), level, siren)


# A fragment: « Agrégat », « Comparer avec » and the custom list rerun the placement and the
# maps alone, not the pickers above nor the indicators below (some thirty elements), which
# depend on the collectivité only.
@st.fragment
def agregat_view(level: str, siren: str, names: dict[str, str], entity: dict[str, Any]
                 ) -> None:
    year = entity["year"]
    c3, c4 = st.columns(2)
    agregat = url_selectbox(c3, "Agrégat", entity["agregats"], "agregat")
    available = ask(NationalStore.peer_columns, level)
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
    placed = ask(NationalStore.placement, level, siren, agregat,
                 peer if peer not in ("", "custom") else None, tuple(custom))
    population = entity["population"]
    scope = ("comptes consolidés : budget principal et budgets annexes, flux croisés retirés"
             if entity["consolidated"] else "budget principal")
    st.caption(f"Montants en € par habitant ; population totale INSEE {year} selon "
               f"l'OFGL ({number(population) if population is not None else '—'} habitants). "
               f"Source : OFGL, comptes des collectivités ({scope}).")
    if placed.empty and peer in entity["no_criterion"]:
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
        chart_title(f"{agregat} : la collectivité parmi son groupe (bande : du "
                    "1er au 3e quartile)")
        altair_chart(charts.peer_placement, placed, key="chart_pairs")
        chart_data(placed[["year", "value", "median", "q1", "q3", "rank", "peers"]].rename(
            columns={"year": "annee", "value": "valeur_par_habitant",
                     "median": "mediane_par_habitant", "q1": "premier_quartile",
                     "q3": "troisieme_quartile", "rank": "rang", "peers": "collectivites"}),
            f"se_comparer_{siren}_{agregat}.csv", "download_pairs",
            money=["valeur_par_habitant", "mediane_par_habitant", "premier_quartile",
                   "troisieme_quartile"], static=True)

    st.markdown("### Carte")
    by_departement = ask(NationalStore.departement_medians, level, agregat, year)
    values = dict(zip(by_departement["code"], by_departement["value"], strict=True))
    if not values:
        st.info("Pas de carte par département : les comptes OFGL de ce niveau n'en donnent pas.")
    elif set(values) & departements_with_shapes():
        chart_title(f"{agregat} : médiane par département (€/hab)")
        st.vega_lite_chart(maps.departements(values, "€ par habitant", share=False),
                           key="carte_nationale")
        chart_data(by_departement.rename(columns={"code": "departement",
                                                  "value": "mediane_par_habitant"}),
                   f"carte_{level}_{agregat}.csv", "download_carte",
                   money=["mediane_par_habitant"])
    else:
        st.info("Les départements chargés (" + ", ".join(sorted(values)) + ") n'ont pas de "
                "contour dans la carte embarquée (métropole).")

    code = entity["departement"]
    if level == "communes" and code in commune_map_departements():
        by_commune = ask(NationalStore.commune_values, agregat, year, code)
        chart_title(f"{agregat} : communes du département {code} (€/hab)")
        st.vega_lite_chart(maps.communes(code, dict(zip(by_commune["code"], by_commune["value"],
                                                        strict=True)),
                                         "€ par habitant", share=False),
                           key="carte_communes_nationale")
        chart_data(by_commune.rename(columns={"code": "insee", "value": "valeur_par_habitant"}),
                   f"carte_communes_{code}_{agregat}.csv", "download_carte_communes",
                   money=["valeur_par_habitant"])


agregat_view(level, siren, names, entity)

st.markdown("### Santé financière")
ofgl_values = entity["ofgl"]
# This session's uploads count: the published documents are read at each run, not cached.
ours = list(own_accounts(published_documents(), siren, entity["year"])["doc_key"])
own_values = (summary(from_lines, ours, population=entity["population"]) if ours
              else None)
# Each indicator a box of three elements (its figure, then its definition), not columns in a
# box (six): a new collectivité redraws them all, each element a message the browser lays out
# (the page drawn without them changed collectivité 50 to 80 ms sooner in Chromium, load 6).
for indicator in INDICATORS:
    box = st.container(border=True)
    box.metric(indicator.label, show(ofgl_values[indicator.key], indicator.unit), help="OFGL")
    if own_values is not None:
        box.caption(f"Depuis le compte publié : "
                    f"{show(own_values[indicator.key], indicator.unit)}")
    box.markdown(indicator.definition)
    if indicator.key == "capacite_desendettement" and ofgl_values["epargne_brute"] is not \
            None and ofgl_values["epargne_brute"] <= 0:
        box.warning("Épargne brute négative ou nulle : la capacité de désendettement "
                    "n'a pas de sens cette année.")
