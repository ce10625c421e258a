"""Reading TOTEM documents: every real document, to the cent, with the right chapters."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from lxml import etree

from budget_core.analysis import chapter_totals, section_totals, select
from budget_core.errors import FormatError, NomenclatureError
from budget_core.model import AMOUNT_FIELDS, COLUMN_NAMES
from budget_core.totem import read_totem
from tests.conftest import FIXTURES, TOTEM, parsed
from tests.rawxml import (
    NS,
    budget_lines,
    canonical_sums_by_direction_and_order,
    french_number,
    informations,
    real_sums_without_carryover,
    sums_by_direction_and_order,
    value,
)


def test_every_budget_line_is_read_once(totem_path: Path) -> None:
    document = parsed(totem_path)
    assert len(document.lines) == len(budget_lines(totem_path))
    assert tuple(document.lines.columns) == COLUMN_NAMES
    assert document.lines["chapter_code"].ne("").all(), "every line gets a chapter"
    assert document.lines["section"].isin(["fonctionnement", "investissement"]).all()


@pytest.mark.parametrize("element", list(AMOUNT_FIELDS))
def test_totals_equal_the_documents_own_amounts_to_the_cent(totem_path: Path,
                                                            element: str) -> None:
    assert canonical_sums_by_direction_and_order(parsed(totem_path).lines,
                                                 AMOUNT_FIELDS[element]) == \
        sums_by_direction_and_order(totem_path, element)


def test_cfu_chapter_totals_equal_the_documents_calculated_total_lines() -> None:
    """The CFU carries its own chapter totals (calculated="true", InfoOpe T): we must agree.

    Counting those 633 calculated lines as budget lines would multiply spending by about four.
    """
    path = TOTEM / "mohon_CFU_2023.xml"
    document = read_totem(path)
    assert document.calculated_lines_skipped == 633
    totals = chapter_totals(document.lines)
    tree = etree.parse(str(path))
    checked = 0
    for line in tree.xpath("//d:LigneBudget[@calculated='true'][d:ChapitreNature]"
                           "[d:InfoOpe/@V='T']", namespaces=NS):
        mine = totals[(totals["chapter_code"] == value(line, "ChapitreNature"))
                      & (totals["direction"] == ("depense" if value(line, "CodRD") == "D"
                                                 else "recette"))]
        if value(line, "OpBudg") in ("0", "1"):
            kind = "reel" if value(line, "OpBudg") == "0" else "ordre"
            mine = mine[mine["operation_kind"] == kind]
        for element in ("MtReal", "CredOuv", "MtBudgPrec", "MtRARPrec", "MtRAR3112"):
            assert mine[AMOUNT_FIELDS[element]].sum() == Decimal(value(line, element)), \
                (value(line, "ChapitreNature"), element)
        checked += 1
    assert checked == 72


def real_totals(path: Path) -> dict[tuple[str, str], Decimal]:
    """The library's totals of real operations without carried-over results (what the
    explorer shows), keyed like `real_sums_without_carryover`: (section F/I, CodRD D/R)."""
    totals = section_totals(select(parsed(path).lines), ["amount"])
    return {("F" if row.section == "fonctionnement" else "I",
             "D" if row.direction == "depense" else "R"): row.amount
            for row in totals.itertuples()}


def test_montreuil_2022_pinned_totals() -> None:
    """Figures a council would quote: real operations of the CA 2022 without the results
    carried over (001/002), as the raw XML sums them (MtReal of the LigneBudget with OpBudg
    0, section from the vote chapter)."""
    path = TOTEM / "Montreuil_CA_2022.xml"
    raw = real_sums_without_carryover(path, "MtReal")
    assert raw == {("F", "D"): Decimal("211272101.98"), ("F", "R"): Decimal("237012877.26"),
                   ("I", "D"): Decimal("52124109.80"), ("I", "R"): Decimal("41463465.18")}
    assert real_totals(path) == raw


@pytest.mark.parametrize("year", range(2017, 2024))
def test_staff_share_equals_the_documents_own_r2313_1_ratio(year: int) -> None:
    """The CA states its ratios (R.2313-1 CGCT) in InformationsGenerales: ValDepPers is
    chapter 012 over real operating spending, in %, which our totals must give."""
    path = TOTEM / f"Montreuil_CA_{year}.xml"
    lines = select(parsed(path).lines)
    operating = lines[(lines["section"] == "fonctionnement") & (lines["direction"] == "depense")]
    staff = operating.loc[operating["chapter_code"] == "012", "amount"].sum()
    share = (100 * staff / operating["amount"].sum()).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert share == french_number(informations(path)["ValDepPers"])


@pytest.mark.parametrize("year", [2019, 2020, 2021, 2023])
def test_operating_spending_per_inhabitant_equals_the_documents_own_ratio(year: int) -> None:
    """ValDepRFonc is real operating spending per inhabitant of the document's PopTot, to the
    cent (2017, 2018 and 2022 divide by another population, so they cannot be checked)."""
    path = TOTEM / f"Montreuil_CA_{year}.xml"
    stated = informations(path)
    per_inhabitant = real_totals(path)[("F", "D")] / french_number(stated["PopTot"])
    assert per_inhabitant.quantize(Decimal("0.01"), ROUND_HALF_UP) == \
        french_number(stated["ValDepRFonc"])


def test_chapter_from_the_plan_when_the_document_gives_none() -> None:
    """Recettes of the Crach lotissement carry no ContNat: the 2022 M14 plan names them."""
    lines = parsed(TOTEM / "crach_lotissement_BP_2022.xml").lines.set_index(
        ["nature_code", "direction", "operation_kind"])
    sale = lines.loc[("7015", "recette", "reel")]
    assert (sale["chapter_code"], sale["chapter_source"]) == ("70", "plan")
    assert sale["chapter_label"] == "Produits des services, du domaine et ventes diverses"
    stock = lines.loc[("3555", "recette", "ordre")]  # TypOpBudg 2: between sections
    assert (stock["chapter_code"], stock["section"]) == ("040", "investissement")
    carried = lines.loc[("002", "recette", "reel")]
    assert carried["carryover"] and carried["section"] == "fonctionnement"


def test_m57_vote_by_function_maps_natures_and_functions_through_the_plan() -> None:
    """Montpellier votes by function (ContFon): no ContNat at all, fonctions like 93020."""
    document = parsed(TOTEM / "Montpellier_CA_2018.xml")
    lines = document.lines
    assert (document.info.nomenclature, document.info.declinaison) == ("M57", "M57")
    assert lines["chapter_source"].eq("plan").all()
    staff = lines[(lines["nature_code"] == "64111") & (lines["direction"] == "depense")]
    assert set(staff["chapter_code"]) == {"012"}
    admin = lines[lines["fonction_code"] == "93020"]
    assert set(admin["fonction_label"]) == {"Administration générale de la collectivité"}
    with_fonction = lines[lines["fonction_code"] != ""]
    assert with_fonction["fonction_label"].ne("").all()
    assert set(lines.loc[lines["fonction_code"] == "", "nature_code"]) == {"001", "002"}


def test_document_vote_chapter_wins_over_the_plan() -> None:
    """Third-party operations are voted in chapter 4581001 (4581 + operation number).

    The vote chapter is kept as the document says it; totals by chapter group it under the
    plan's chapter 4581, as the CFU's own total lines do.
    """
    lines = parsed(TOTEM / "saint_malo_agglo_transport_BP_2022.xml").lines
    third = lines[lines["nature_code"] == "4581"]
    assert set(third["vote_chapter"]) == {"4581001"}
    assert set(third["chapter_code"]) == {"4581"}
    assert set(third["chapter_label"]) == {"Opérations pour le compte de tiers"}
    staff = lines[lines["nature_code"] == "6331"]
    assert set(staff["vote_chapter"]) == set(staff["chapter_code"]) == {"012"}


def test_nearest_plan_year_is_used_and_said() -> None:
    """No genuine 2022 M43_D plan exists (the 2022 folder holds the 2020 plan): 2021 is used."""
    document = parsed(TOTEM / "saint_malo_agglo_transport_BP_2022.xml")
    assert document.info.plan_year == 2021
    assert set(document.lines["plan_year"]) == {2021}
    assert any("Plan de comptes 2021" in w for w in document.warnings)


def test_header_is_read() -> None:
    info = parsed(TOTEM / "crach_lotissement_CA_2021.xml").info
    assert (info.siret, info.siren, info.entity_name, info.entity_type) == (
        "21560046100085", "215600461", "CRACH", "commune")
    assert (info.budget_kind, info.budget_label, info.year, info.stage) == (
        "annexe", "LOTISSEMENT LE BOCENO", 2021, "CA")
    assert info.insee == "56046"
    syndicat = parsed(TOTEM / "gironde_numerique_CA_2019.xml").info
    assert syndicat.entity_type == "syndicat"
    assert parsed(TOTEM / "saint_malo_agglo_transport_BP_2022.xml").info.entity_type == "epci"


def test_both_encodings_read_the_same_labels() -> None:
    latin1 = parsed(TOTEM / "Montreuil_CA_2023.xml")  # ISO-8859-1
    utf8 = parsed(TOTEM / "Montreuil_CA_2022.xml")  # UTF-8
    assert latin1.info.entity_name == utf8.info.entity_name == "VILLE DE MONTREUIL"
    assert "Charges à caractère général" in set(latin1.lines["chapter_label"])


@pytest.mark.parametrize(("encoding", "written", "read"), [
    # the DGFiP's Windows-1252 apostrophe and euro, and Latin-9's euro (Latin-1 reads « ¤ »)
    ("windows-1252", b"L\x92EST \x80", "L\u2019EST \u20ac"),
    ("ISO-8859-15", b"\xa4 \xe9", "\u20ac \u00e9"),
])
def test_other_declared_single_byte_encodings_are_read(tmp_path: Path, encoding: str,
                                                      written: bytes, read: str) -> None:
    """expat reads UTF-8, UTF-16 and ISO-8859-1 itself, and any single-byte encoding Python
    has a codec for through pyexpat's unknown-encoding handler."""
    data = (TOTEM / "crach_lotissement_BP_2022.xml").read_bytes()
    data = data.replace(b'encoding="ISO-8859-1"', f'encoding="{encoding}"'.encode(), 1)
    data = data.replace(b'<LibelleEtab V="LOTISSEMENT LE BOCENO"/>',
                        b'<LibelleEtab V="' + written + b'"/>', 1)
    declared = tmp_path / f"{encoding}.xml"
    declared.write_bytes(data)
    document = read_totem(declared)
    assert document.info.budget_label == read == written.decode(encoding)
    assert len(document.lines) == len(budget_lines(TOTEM / "crach_lotissement_BP_2022.xml"))


INVALID = FIXTURES / "totem_invalid"


@pytest.mark.parametrize(("name", "error", "words"), [
    ("mauvais_totem.xml", FormatError, "il manque l'en-tête du budget"),
    ("totem_mauvais_siret.xml", FormatError, "SIRET « 2156004610008 » invalide"),
    ("totem_mauvaise_annee.xml", FormatError, "exercice « 2022 en erreur » invalide"),
    ("totem_mauvaise_etape.xml", FormatError, "NatDec « 99999 » inconnue"),
    ("totem_mauvaise_nomenclature.xml", NomenclatureError,
     "nomenclature « M14-M14_COM_500_3500_en_erreur » inconnue"),
])
def test_broken_variants_give_clear_french_errors(name: str, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        read_totem(INVALID / name)
    assert words in str(caught.value)
    assert name in str(caught.value) and "Que faire" in str(caught.value)


def test_truncated_document_names_the_line(tmp_path: Path) -> None:
    data = (TOTEM / "crach_principal_BP_2022.xml").read_bytes()
    cut = tmp_path / "tronque.xml"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"tronque\.xml.*ligne \d+.*XML mal formé"):
        read_totem(cut)


def test_non_budget_xml_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "plan.xml"
    other.write_bytes(b"<?xml version='1.0'?><Nomenclature Norme='M14'/>")
    with pytest.raises(FormatError, match="n'est pas un document budgétaire TOTEM"):
        read_totem(other)


def test_external_entities_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    evil = tmp_path / "xxe.xml"
    evil.write_text(f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
                    '<DocumentBudgetaire xmlns="http://www.minefi.gouv.fr/cp/demat/'
                    'docbudgetaire"><EnTeteDocBudgetaire><LibelleColl V="&x;"/>'
                    '</EnTeteDocBudgetaire></DocumentBudgetaire>')
    with pytest.raises(FormatError, match="DTD") as caught:
        read_totem(evil)
    assert "SECRET" not in str(caught.value)


def test_wrong_encoding_is_explained(tmp_path: Path) -> None:
    data = (TOTEM / "Montreuil_CA_2023.xml").read_bytes()  # ISO-8859-1 with accents
    lying = tmp_path / "faux_utf8.xml"
    lying.write_bytes(data.replace(b'encoding="ISO-8859-1"', b'encoding="UTF-8"', 1))
    with pytest.raises(FormatError, match="encodage incohérent"):
        read_totem(lying)


def test_an_unknown_declared_encoding_is_explained(tmp_path: Path) -> None:
    """A mutation of a real document (found by test_bad_inputs' property test in CI): expat
    asks Python's codecs for « I-SO-8859-1 », whose LookupError went up as a traceback."""
    data = (TOTEM / "crach_lotissement_BP_2022.xml").read_bytes()
    typo = tmp_path / "typo.xml"
    typo.write_bytes(data.replace(b'encoding="ISO-8859-1"', b'encoding="I-SO-8859-1"', 1))
    with pytest.raises(FormatError, match="encodage « I-SO-8859-1 » inconnu") as caught:
        read_totem(typo)
    assert "Que faire" in caught.value.french() and "typo.xml" in caught.value.french()


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "vide.xml"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match=r"vide\.xml"):
        read_totem(empty)
