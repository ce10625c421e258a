"""Se comparer, chapter by chapter: any commune of the DGFiP balances against its peers (median,
quartiles, rank of each chapter in € per inhabitant), and a map of one chapter. Drawn by
comparer_national.py when `?mode=chapitres`."""

import pandas as pd
import streamlit as st

from app_pages.catalogue import balance_documents, balances
from app_pages.common import (
    kept,
    narrowed,
    pick_direction,
    remembered_siren,
    url_multiselect,
    url_selectbox,
)
from app_pages.drawing import altair_chart, chart_data, chart_title
from budget_core import balance_catalogue, balance_peers, charts, maps, population
from budget_core.coverage import commune_map_departements
from budget_core.fmt import md_escape, number
from budget_core.national import NationalStore
from budget_core.pickers import PickerIndex

LEGEND = "€ par habitant"
MONEY = ["valeur_par_habitant", "mediane_par_habitant", "premier_quartile",
         "troisieme_quartile"]


@st.cache_data(show_spinner=False, max_entries=32)
def _placement(year: int, siren: str, direction: str, group_key: str,
               custom: tuple[str, ...], version: tuple[tuple[str, float], ...],
               ofgl: tuple[tuple[str, int], ...], _group: balance_peers.Peers) -> pd.DataFrame:
    # Keyed by the group's name and list, not by its SIRENs (`_group` is not hashed): hashing
    # the 11 000 SIRENs of a strate took a fifth of a rerun at the scale of France. A group
    # read from the OFGL accounts (`balance_peers.FROM_OFGL`) is keyed by their version too
    # (`ofgl`): the year imported again may group other communes.
    return balance_peers.placement(balances(), year, siren, direction, _group)


@st.cache_resource(show_spinner=False, max_entries=2)
def _communes(version: tuple[tuple[str, float], ...]) -> dict[int, PickerIndex]:
    held = balance_documents()
    held = held[balance_catalogue.from_balances(held) & (held["budget_kind"] == "principal")
                & (held["entity_type"] == "commune")]
    return {int(year): PickerIndex.of(rows, "siren", lambda r: r["entity_name"].astype(str)
                                      + " (" + r["insee"].astype(str) + ")")
            for year, rows in held.groupby("year")}


@st.cache_data(show_spinner=False, max_entries=32)
def _chapter_values(year: int, chapter: str, direction: str, siren: str,
                    version: tuple[tuple[str, float], ...]
                    ) -> tuple[pd.DataFrame, str | None, dict[str, float] | None]:
    """The départements' medians of a chapter, the commune's département and the values of
    its communes (None when their shapes are not shipped), keyed by their inputs: the maps
    are made from them at each run (`maps`: milliseconds)."""
    values = balance_peers.chapter_values(balances(), year, chapter, direction)
    own = values.loc[values["siren"] == siren, "departement"]
    code = str(own.iloc[0]) if len(own) else None
    communes = None
    if code in commune_map_departements():
        mine = values[values["departement"] == code]
        communes = dict(zip(mine["insee"], mine["value"], strict=True))
    return balance_peers.by_departement(values), code, communes


def show(national: NationalStore) -> None:
    """The chapter mode of « Se comparer »."""
    version = balances().version()
    by_year = _communes(version)
    if not by_year:
        st.info("Aucune balance comptable DGFiP de commune n'est chargée : téléchargez un "
                "exercice depuis la page Données (ou « python -m budget_core balances "
                "download --year 2024 »).")
        st.page_link("app_pages/donnees.py", label="Aller à la page Données",
                     icon=":material/folder_open:")
        return
    c1, c2 = st.columns([1, 3])
    year = int(url_selectbox(c1, "Exercice", sorted(by_year, reverse=True), "chap_annee"))
    index = by_year[year]
    names = narrowed(index, "commune", c2, "chap_siren",
                     st.session_state.get("chap_siren") or st.query_params.get("chap_siren")
                     or remembered_siren())
    if not names:
        st.info("Aucune commune ne correspond à cette recherche.")
        return
    siren = str(url_selectbox(c2, "Commune", list(names), "chap_siren", names.__getitem__,
                              fallback=remembered_siren()))
    c3, c4 = st.columns([1, 3])
    direction = pick_direction(c3, "chap_sens")
    group_key = str(url_selectbox(c4, "Comparer avec", list(balance_peers.GROUPS),
                                  "chap_pairs", balance_peers.GROUPS.__getitem__))
    custom: list[str] = []
    if group_key == "custom":
        listed = {**kept(index, "commune", "chap_liste", [siren]), **names}
        custom = url_multiselect(st, "Communes de la liste", list(listed), "chap_liste",
                                 listed.__getitem__, default=[siren], max_selections=50)
    group = balance_peers.peers(group_key, siren, year, national, custom)
    head = population.of_document(siren, None, year)
    st.caption(f"Réel, en € par habitant ; budget principal ; population : {head.french()} "
               f"({number(head.value)} habitants pour la commune). Source : "
               f"{balance_catalogue.SOURCE}, data.economie.gouv.fr, exercice {year}. Médiane "
               "et quartiles parmi les communes du groupe qui ont ce chapitre ; chapitres "
               "rapprochés par leur code quand les nomenclatures diffèrent (M14, M57).")
    if group.missing:
        st.info(md_escape(group.missing[0].upper() + group.missing[1:]))
        return
    if head.value == 0:  # no € per inhabitant (`balance_peers.VALUES_SQL`)
        st.info("Pas de montant par habitant : la commune n'a aucun habitant (population 0).")
        return
    ofgl = national.version() if group_key in balance_peers.FROM_OFGL else ()
    placed = _placement(year, siren, direction, group_key, tuple(custom), version, ofgl, group)
    if placed.empty:
        st.info("Aucun montant réel de ce sens pour cette commune dans la balance de "
                f"{year}.")
        return
    sens = "Dépenses" if direction == "depense" else "Recettes"
    # The title above the chart, not in its spec: another commune, group or direction is then
    # new rows for the Vega view the browser has (charts.chapter_peers), and the text wraps on
    # a phone instead of being cut.
    chart_title(f"{sens} réelles : {names[siren]} parmi « {group.label.lower()} »")
    altair_chart(charts.chapter_peers, placed, key="chart_chapitres_pairs")
    chart_data(placed[["chapter_code", "chapter_label", "value", "median", "q1", "q3", "rank",
                       "peers"]].assign(source=balance_catalogue.SOURCE).rename(columns={
        "chapter_code": "chapitre", "chapter_label": "libelle",
        "value": "valeur_par_habitant", "median": "mediane_par_habitant",
        "q1": "premier_quartile", "q3": "troisieme_quartile", "rank": "rang",
        "peers": "communes"}), f"se_comparer_chapitres_{siren}_{year}_{direction}.csv",
        "download_chapitres_pairs", money=MONEY, counts=["rang", "communes"], static=True)
    _maps(placed, siren, year, direction, version)


def _maps(placed: pd.DataFrame, siren: str, year: int, direction: str,
          version: tuple[tuple[str, float], ...]) -> None:
    st.markdown("### Carte d'un chapitre")
    labels = dict(zip(placed["chapter_code"], placed["chapter_code"] + " — "
                      + placed["chapter_label"].fillna(""), strict=True))
    chapter = str(url_selectbox(st, "Chapitre", list(labels), "chap_carte",
                                labels.__getitem__))
    medians, code, communes = _chapter_values(year, chapter, direction, siren, version)
    france = maps.departements(dict(zip(medians["code"], medians["value"], strict=True)),
                               LEGEND, share=False)
    if maps.codes(france):  # the départements of the balances that have a shape
        chart_title(f"{labels[chapter]} : médiane des communes par département (€/hab)")
        st.vega_lite_chart(france, key="carte_chapitre")
    elif not medians.empty:
        st.caption("Carte des départements : contours embarqués pour la métropole seulement "
                   f"(pas pour {', '.join(sorted(map(str, medians['code'])))}).")
    chart_data(medians.assign(source=balance_catalogue.SOURCE).rename(columns={
        "code": "departement", "value": "mediane_par_habitant"}),
        f"carte_chapitre_{chapter}_{year}.csv", "download_carte_chapitre",
        money=["mediane_par_habitant"], counts=["communes"])
    if communes is not None:
        chart_title(f"{labels[chapter]} : communes du département {code} (€/hab)")
        st.vega_lite_chart(maps.communes(str(code), communes, LEGEND, share=False),
                           key="carte_chapitre_communes")
    elif code is not None:
        st.caption(f"Carte des communes : contours embarqués pour le Grand Est seulement "
                   f"(pas pour le département {code}).")
