"""Publier mes données: validate, convert, anonymise a file; metadata sheet; who has published."""

import json

import pandas as pd
import streamlit as st

from app_pages.catalogue import published_documents, store, uploads
from app_pages.common import (
    CHOOSE,
    entity_label,
    remembered_siren,
    show_error,
    upload_widget,
    url_selectbox,
)
from app_pages.drawing import chart_data, chart_title, show_table
from budget_core import coverage, maps
from budget_core.anonymise import anonymise_totem
from budget_core.errors import BudgetError
from budget_core.fmt import md_escape, percent
from budget_core.formats import read_uploaded
from budget_core.metadata import dataset_metadata
from budget_core.model import ENTITY_TYPE_LABELS, STAGE_LABELS, STAGES
from budget_core.scdlwrite import documents_csv_bytes
from budget_core.validate import KINDS, validate_bytes

REGIONS = coverage.regions()

st.title("Publier mes données")
st.markdown("Vérifiez, convertissez et anonymisez vos fichiers avant de les publier ; "
            "préparez la fiche du jeu de données ; voyez qui a déjà publié.")

upload = upload_widget("Votre fichier : document TOTEM (XML) ou CSV SCDL budget",
                       "publish_upload")
name, data = upload if upload else ("", b"")

valider, convertir, anonymiser, fiche, carte = st.tabs(
    ["Valider", "Convertir en SCDL", "Anonymiser", "Fiche de métadonnées",
     "Carte de publication"])

with valider:
    if not data:
        st.info("Déposez un fichier ci-dessus pour le valider.")
    else:
        report = validate_bytes(data, name)
        if report.valid:
            st.success(f"{md_escape(name)} : valide ({report.schema}).")
        else:
            st.error(f"{md_escape(name)} : non valide ({report.schema}).")
        for kind, problems in report.grouped().items():
            with st.expander(f"{kind} — {len(problems)}", expanded=not report.valid):
                st.caption(KINDS[kind])
                show_table(pd.DataFrame([{"sévérité": p.severity, "ligne": p.row,
                                          "colonne": p.column, "problème": p.message}
                                         for p in problems]))
        st.download_button("Télécharger le rapport (JSON)",
                           json.dumps(report.as_dict(), ensure_ascii=False, indent=2,
                                      default=str).encode("utf-8"),
                           file_name=f"{name}.validation.json", key="report_json")

with convertir:
    if not data:
        st.info("Déposez un document TOTEM ci-dessus pour le convertir en CSV SCDL.")
    else:
        try:
            converted = read_uploaded(data, name)
        except BudgetError as exc:
            show_error(exc)
        else:
            lines = sum(len(d.lines) for d in converted)
            st.success(f"{lines} lignes converties au format SCDL budget 0.8.3.")
            # built on click only: the CSV of a 200 MB upload costs gigabytes to write
            st.download_button("Télécharger le CSV SCDL",
                               lambda: documents_csv_bytes(converted),
                               file_name=name.rsplit(".", 1)[0] + ".scdl.csv",
                               mime="text/csv", key="scdl_csv")

with anonymiser:
    if not data or not name.lower().endswith(".xml"):
        st.info("Déposez un document TOTEM (XML) ci-dessus pour occulter ses données "
                "personnelles (annexes : personnel, subventions et prêts à des personnes...).")
    else:
        try:
            masked, masking = anonymise_totem(data, name)
        except BudgetError as exc:
            show_error(exc)
        else:
            st.success(masking.french().splitlines()[0])
            show_table(pd.DataFrame([{"bloc": block, "champ": field, "occultés": count}
                                     for (block, field), count in
                                     sorted(masking.masked.items())]), counts=["occultés"])
            st.download_button("Télécharger le document anonymisé", masked,
                               file_name=name.rsplit(".", 1)[0] + ".anonymise.xml",
                               mime="application/xml", key="anonymised")

# The sheet and the maps are fragments: a widget of one reruns that one alone, so choosing a
# collectivité for the sheet does not redraw the maps (Altair's GeoJSON specs take seconds).
@st.fragment
def metadata_sheet() -> None:
    docs = published_documents()
    entities = docs.drop_duplicates("siren").sort_values("entity_name")
    names = dict(zip(entities["siren"], entities.apply(entity_label, axis=1), strict=True))
    siren = url_selectbox(st, "Collectivité", list(names), "fiche", names.__getitem__,
                          fallback=remembered_siren())
    if siren:
        # This session's uploads too: the collectivités listed are theirs as well (a
        # collectivité known by its upload alone had no stored document to describe).
        mine = [doc.info for doc in uploads().values() if doc.info.siren == siren]
        files = {info.source_sha256 for info in mine}
        sheet = dataset_metadata([info for info in store().infos(siren)
                                  if info.source_sha256 not in files] + mine)
        st.subheader(md_escape(sheet["title"]))
        st.markdown(md_escape(sheet["description"]))
        st.json(sheet, expanded=False)
        st.download_button("Télécharger la fiche (JSON, champs data.gouv.fr et DCAT)",
                           json.dumps(sheet, ensure_ascii=False, indent=2).encode("utf-8"),
                           file_name=f"metadonnees_{siren}.json", key="meta_json")


@st.fragment
def publication_map() -> None:
    docs = published_documents()
    # Open on a map where someone has published (a map of « 0,0 % » everywhere says nothing).
    default = coverage.busiest(docs) or {}
    for name, key in (("stage", "carte_etape"), ("region", "carte_region"),
                      ("departement", "carte_departement")):
        if name in default:
            st.query_params.setdefault(key, default[name])
    c1, c2, c3 = st.columns(3)
    stage = url_selectbox(c1, "Étape", list(STAGES), "carte_etape",
                          lambda s: f"{s} — {STAGE_LABELS[s]}")
    years = sorted({int(y) for y in docs["year"]}, reverse=True) or [2023]
    year = c2.selectbox("Année", years, key="carte_annee", bind="query-params",
                        index=years.index(default.get("year", years[0])), placeholder=CHOOSE)
    region = url_selectbox(c3, "Région", list(REGIONS), "carte_region", REGIONS.__getitem__)
    by_departement = coverage.departement_coverage(docs, stage, int(year), region=region)
    codes = set(by_departement["departement"])
    mapped = bool(codes & coverage.departements_with_shapes())
    if mapped:
        chart_title(f"Communes ayant publié leur {stage} {year}")
        st.vega_lite_chart(maps.departements(
            dict(zip(by_departement["departement"], by_departement["share"], strict=True)),
            "communes"), key="carte_region_chart")
    else:
        published = int(by_departement["published"].sum())
        st.info(f"Pas de carte pour la région {REGIONS[region]} : les contours livrés avec "
                "l'application (IGN Admin Express) ne couvrent que les départements de "
                f"métropole. Communes de la région ayant publié leur {stage} {year} dans "
                f"les données chargées : {published} sur "
                f"{int(by_departement['communes'].sum())}. Le tableau par département "
                "ci-dessous (à télécharger en CSV) et le choix d'un département en donnent "
                "le détail.")
    chart_data(by_departement.rename(columns={"published": "publiees", "share": "part"}),
               f"publication_{stage}_{year}_{region}.csv", "download_carte_region",
               counts=["communes", "publiees"], shares=["part"],
               title="Données du graphique" if mapped else "Publication par département")
    departement = url_selectbox(st, "Département", sorted(codes), "carte_departement")
    frame = coverage.commune_coverage(docs, departement, stage, int(year))
    published, total, share = coverage.summary(frame)
    st.metric(f"Communes du département {departement} ayant publié leur {stage} {year}",
              percent(share), f"{published} sur {total}", delta_color="off")
    if departement in coverage.commune_map_departements():
        chart_title(f"Communes du {departement} : {stage} {year} publié")
        st.vega_lite_chart(maps.communes(
            departement, {row.insee: 1.0 if row.published else 0.0
                          for row in frame.itertuples()}, "publié"),
            key="carte_communes_chart")
    show_table(frame.rename(columns={"insee": "INSEE", "siren": "SIREN", "name": "Commune",
                                     "population": "Population", "published": "Publié"}),
               counts=["Population"])
    others = docs[(docs["stage"] == stage) & (docs["year"] == int(year))
                  & (docs["entity_type"] != "commune")]
    st.markdown(f"**Autres collectivités ayant publié leur {stage} {year}** (toutes régions)")
    listed = others[["entity_type", "entity_name", "budget_label", "siret"]].replace(
        {"entity_type": ENTITY_TYPE_LABELS})
    show_table(listed.rename(columns={"entity_type": "Type", "entity_name": "Collectivité",
                                      "budget_label": "Budget", "siret": "SIRET"}))
    st.caption("Publié : un document de l'étape et de l'année pour le budget principal de la "
               "commune est dans les données chargées (cache des portails ou démonstration). "
               "Cartes : IGN Admin Express (COG 2018) via france-geojson ; communes : COG "
               "(@etalab/decoupage-administratif 6.0.0).")


with fiche:
    metadata_sheet()
with carte:
    publication_map()
