"""OFGL exports of every level: each level's own headers, OFGL's peer criteria, loud refusals.

Real exports (tests/fixtures/PROVENANCE.md): the communes of Guadeloupe 2024 (per budget), the
consolidated accounts of Haute-Garonne's EPCI (2016) and département (2022-2023) and of the
Occitanie région (2022-2023), and data.ofgl.fr's catalogue entry of `ofgl-base-regions`.
Expected values are read off the files themselves (quoted in each test) or through pandas.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from budget_core.errors import FormatError
from budget_core.ofgl import (
    CONSOLIDATED,
    HEADERS,
    column_map,
    export_query,
    normalise_export,
)
from tests.conftest import FIXTURES

NATIONAL = FIXTURES / "national"
COMMUNES = NATIONAL / "ofgl-base-communes_guadeloupe_2024.csv"
GFP = NATIONAL / "ofgl-base-gfp-consolidee_haute-garonne_2016.csv"
DEPARTEMENTS = NATIONAL / "ofgl-base-departements-consolidee_haute-garonne_2022-2023.csv"
REGIONS = NATIONAL / "ofgl-base-regions-consolidee_occitanie_2022-2023.csv"
EXPORTS = {"communes": COMMUNES, "gfp": GFP, "departements": DEPARTEMENTS, "regions": REGIONS}


def read(level: str) -> pd.DataFrame:
    return normalise_export(EXPORTS[level].read_bytes(), EXPORTS[level].name, level).to_pandas()


def raw(level: str) -> pd.DataFrame:
    """The export as pandas reads it, apart from our reader."""
    return pd.read_csv(EXPORTS[level], sep=";", dtype=str, encoding="utf-8-sig")


def first(frame: pd.DataFrame, siren: str) -> pd.Series:
    return frame[frame["siren"] == siren].iloc[0]


@pytest.mark.parametrize("level", list(EXPORTS))
def test_every_level_names_every_entity(level: str) -> None:
    frame = read(level)
    assert len(frame) == len(raw(level))
    assert frame["name"].notna().all() and (frame["name"] != "").all()


def test_epci_name_legal_form_regime_and_strate_from_their_own_headers() -> None:
    """Row « 2016;Non;76;Occitanie;31;Haute-Garonne;5;M;FPU;2;Oui;243100518;Toulouse
    Métropole;GFP;243100518;… », and « …;2;CC;FPU;2;Non;200068807;CC du Bassin Auterivain
    Haut-Garonnais;GFP;243100542;CC DE LA VALLEE DE L'ARIEGE;… »: a CC of 2016 merged since,
    whose « Nom 2024 EPCI » names its successor, keeps the name it had."""
    frame = read("gfp")
    toulouse = first(frame, "243100518")
    assert (toulouse["name"], toulouse["legal_form"], toulouse["fiscal_regime"],
            toulouse["strate"], toulouse["income_band"], toulouse["qpv"]) == (
        "Toulouse Métropole", "M", "FPU", "5", "2", "Oui")
    merged = first(frame, "243100542")
    assert (merged["name"], merged["epci_siren"], merged["epci_name"]) == (
        "CC DE LA VALLEE DE L'ARIEGE", "200068807", "CC du Bassin Auterivain Haut-Garonnais")
    assert first(frame, "243100567")["departement_code"] == "11,31,81"  # across three


def test_departement_and_region_names_and_criteria() -> None:
    """« 2022;Non;76;Occitanie;4;urbain;31;Haute-Garonne;DEPT;223100017;DEP HAUTE-GARONNE;… »
    and « 2022;Non;Non;76;Occitanie;REG;200053791;REG OCCITANIE;… »: a région has no strate."""
    departement = first(read("departements"), "223100017")
    assert (departement["name"], departement["strate"], departement["rural_urban"],
            departement["region_code"]) == ("Haute-Garonne", "4", "urbain", "76")
    regions = read("regions")
    region = first(regions, "200053791")
    assert (region["name"], region["ctu"], region["overseas"]) == ("Occitanie", "Non", "Non")
    assert regions["strate"].isna().all()


def test_communes_keep_ofgl_peer_criteria() -> None:
    frame = read("communes").drop_duplicates("siren").set_index("siren")
    source = raw("communes").drop_duplicates("Code Siren Collectivité").set_index(
        "Code Siren Collectivité")
    for ours, theirs in {"rural": "Commune rurale", "mountain": "Commune de montagne",
                         "touristic": "Commune touristique",
                         "income_band": "Tranche revenu par habitant", "qpv": "Présence QPV",
                         "overseas": "Outre-mer", "strate": "Strate population 2024"}.items():
        assert frame[ours].to_dict() == source[theirs].to_dict(), ours
    assert set(frame["mountain"]) == {"Oui", "Non"}


def test_consolidated_export_reads_the_collectivite_total() -> None:
    """Toulouse Métropole, achats 2016: « Montant BP » 71711025.12, « Montant »
    103814959.22 (principal + annexes − cross flows): the total is what is kept."""
    frame = read("gfp")
    row = frame[(frame["siren"] == "243100518")
                & (frame["agregat"] == "Achats et charges externes")].iloc[0]
    assert row["amount"] == 103814959.22 and row["budget_type"] == CONSOLIDATED


def test_ofgl_catalogue_labels_of_the_regions_dataset_are_all_known() -> None:
    """Every field label data.ofgl.fr declares for `ofgl-base-regions` (per budget, with
    years of two vintages: « Code Insee 2022 Région », « Nom 2023 Région »)."""
    catalogue = json.loads((NATIONAL / "ods_catalog_ofgl-base-regions_fields.json").read_text(
        encoding="utf-8"))
    labels = [field["label"] for field in catalogue["fields"]]
    mapping = column_map("regions", labels, "catalogue")
    assert mapping["Nom 2023 Région"] == "region_name"
    assert mapping["Type de budget"] == "budget_type" and mapping["Siret Budget"] == "siret"
    assert mapping["CTU ou Collectivité de Corse"] == "ctu"


def test_an_export_of_regions_asks_the_catalogue_names_of_the_columns_read() -> None:
    """`select=` takes API names: those of data.ofgl.fr's own catalogue record of
    `ofgl-base-regions` (« reg_is_ctu » is « CTU ou Collectivité de Corse »), in its order,
    without OFGL's display helpers (« montant_en_millions », « ordre_analyse… »,
    « annee_join », « cbudg ») nor the columns no page reads (« categ », « ident »,
    « nomen »); `where=` keeps the budgets principaux by the budget type's own name."""
    catalogue = json.loads((NATIONAL / "ods_catalog_ofgl-base-regions_fields.json").read_text(
        encoding="utf-8"))
    fields = [(field["name"], field["label"]) for field in catalogue["fields"]]
    query = export_query("regions", fields)
    assert query is not None
    assert query.select == ("exer", "outre_mer", "reg_is_ctu", "reg_code", "reg_name", "siren",
                            "lbudg", "type_de_budget", "agregat", "montant", "ptot",
                            "euros_par_habitant")
    assert query.where == 'type_de_budget="Budget principal"'


def test_a_catalogue_without_the_budget_type_or_a_required_column_asks_everything() -> None:
    """A record without « Type de budget » (a consolidated dataset) or without « Agrégat »:
    no `select`, the full labelled export as before (the reader then says what it lacks)."""
    catalogue = json.loads((NATIONAL / "ods_catalog_ofgl-base-regions_fields.json").read_text(
        encoding="utf-8"))
    fields = [(field["name"], field["label"]) for field in catalogue["fields"]]
    for dropped in ("type_de_budget", "agregat"):
        assert export_query("regions", [f for f in fields if f[0] != dropped]) is None


def test_unknown_header_is_refused_by_name() -> None:
    data = GFP.read_bytes()
    head, rest = data.split(b"\n", 1)
    with pytest.raises(FormatError, match="« Indice 2025 nouveau » inconnue"):
        normalise_export(head + b";Indice 2025 nouveau\n" + rest, "gfp.csv", "gfp")


def test_an_export_of_another_level_is_refused() -> None:
    """The communes export read as régions: its first header régions lack is named."""
    with pytest.raises(FormatError, match=r"« Code Insee 2024 Département » inconnue.*"
                                          r"« regions »"):
        normalise_export(COMMUNES.read_bytes(), COMMUNES.name, "regions")


def test_missing_name_column_is_refused() -> None:
    frame = raw("gfp").drop(columns=["Nom 2024 EPCI"])
    data = frame.to_csv(sep=";", index=False).encode("utf-8-sig")
    with pytest.raises(FormatError, match="sans les colonnes « Nom EPCI »"):
        normalise_export(data, "gfp.csv", "gfp")


def test_selected_columns_are_enough() -> None:
    """An export asked with `select=` (only the mapped columns) reads the same."""
    keep = [label for label in raw("communes").columns
            if label.replace(" 2024", "") in HEADERS["communes"]]
    data = raw("communes")[keep].to_csv(sep=";", index=False).encode("utf-8-sig")
    assert "ordre_analyse1_section1" not in keep and "Commune rurale" in keep
    pd.testing.assert_frame_equal(normalise_export(data, "select.csv", "communes").to_pandas(),
                                  read("communes"))


def test_an_amount_that_is_not_a_number_is_refused_with_its_column() -> None:
    data = GFP.read_bytes().replace(b";103814959.22;", b";103 814 959,22;", 1)
    with pytest.raises(FormatError, match="« Montant » : valeur non numérique"):
        normalise_export(data, "gfp.csv", "gfp")


def test_empty_export_has_no_header_to_read() -> None:
    with pytest.raises(FormatError, match="sans les colonnes"):
        normalise_export(b"", "vide.csv", "communes")
