"""Publisher toolkit: validation, anonymisation, metadata, publication coverage — on real files."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from budget_core import population
from budget_core.anonymise import MASK, anonymise_totem
from budget_core.config import DEMO_DIR
from budget_core.coverage import (
    busiest,
    commune_coverage,
    departement_coverage,
    regions,
    summary,
)
from budget_core.errors import FormatError
from budget_core.metadata import dataset_metadata
from budget_core.scdlwrite import scdl_csv_bytes
from budget_core.store import Store
from budget_core.totem import read_totem_stream
from budget_core.validate import siret_checksum_ok, validate_bytes, validate_file
from tests.conftest import FIXTURES, TOTEM, parsed
from tests.rawxml import NS as RAW_NS
from tests.rawxml import sums_by_section_and_direction

NS = "{http://www.minefi.gouv.fr/cp/demat/docbudgetaire}"
ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad_inputs"


# -- validation ---------------------------------------------------------------------------

def test_our_own_scdl_export_is_valid_and_its_budget_checks_pass() -> None:
    data = scdl_csv_bytes(parsed(TOTEM / "crach_lotissement_BP_2022.xml").lines)
    report = validate_bytes(data, "lotissement.csv")
    assert report.valid and report.problems == []


def test_voted_budget_balances_with_its_restes_a_realiser() -> None:
    """Crach's BP 2022 balances each section once the 2021 restes à réaliser are counted.

    Summed from the raw XML: in investment, MtPrev alone shows 261 663,98 € more income than
    spending, which the restes à réaliser reported (MtRARPrec) take back exactly; CredOuv
    (the credits opened, restes à réaliser included) balances too.
    """
    path = TOTEM / "crach_principal_BP_2022.xml"
    prev = sums_by_section_and_direction(path, "MtPrev")
    rar = sums_by_section_and_direction(path, "MtRARPrec")
    opened = sums_by_section_and_direction(path, "CredOuv")
    assert prev[("I", "R")] - prev[("I", "D")] == Decimal("261663.98")
    for section in ("F", "I"):
        assert prev[(section, "R")] + rar[(section, "R")] == \
            prev[(section, "D")] + rar[(section, "D")]
        assert opened[(section, "R")] == opened[(section, "D")]
    report = validate_file(path)
    assert report.valid and "équilibre" not in report.grouped()


def with_mt_prev_added(path: Path, direction: str, section: str, added: Decimal) -> bytes:
    """The real document with `added` on the MtPrev of its first real operation (OpBudg 0,
    so order operations stay paired) of that direction and section (CodRD D/R, CaracSup
    Section F/I)."""
    tree = etree.parse(str(path))
    line = tree.xpath("//d:LigneBudget[d:OpBudg/@V='0'][d:CodRD/@V=$rd]"
                      "[d:CaracSup[@Code='Section']/@V=$sec]",
                      namespaces=RAW_NS, rd=direction, sec=section)[0]
    mt_prev = line.find("d:MtPrev", RAW_NS)
    mt_prev.set("V", str(Decimal(mt_prev.get("V")) + added))
    return etree.tostring(tree, xml_declaration=True, encoding=tree.docinfo.encoding)


def test_voted_investment_surplus_is_a_warning_not_an_error() -> None:
    """Crach's BP 2022 with 1 000 € more investment income voted on one line: a surplus of
    exactly those 1 000 €, admitted in investment (L1612-6), so a warning."""
    data = with_mt_prev_added(TOTEM / "crach_principal_BP_2022.xml", "R", "I",
                              Decimal("1000.00"))
    report = validate_bytes(data, "crach_suréquilibre.xml")
    assert report.valid
    [problem] = report.problems
    assert (problem.kind, problem.severity) == ("équilibre", "avertissement")
    assert "section d'investissement votée en suréquilibre de 1000.00 €" in problem.message


def test_voted_operating_deficit_is_an_error() -> None:
    """The same document with 1 000 € more operating spending on one line: unbalanced."""
    data = with_mt_prev_added(TOTEM / "crach_principal_BP_2022.xml", "D", "F",
                              Decimal("1000.00"))
    report = validate_bytes(data, "crach_déséquilibre.xml")
    assert not report.valid
    [problem] = report.problems
    assert (problem.kind, problem.severity) == ("équilibre", "erreur")
    assert ("section de fonctionnement en déséquilibre, dépenses supérieures aux recettes de "
            "1000.00 €") in problem.message


def test_reference_converter_output_shows_its_known_quirks() -> None:
    """yatotem2scdl leaves BGT_CONTNAT empty for income voted globally: the schema says no."""
    report = validate_file(FIXTURES / "scdl_expected" / "crach_lotissement_BP_2022.csv")
    assert not report.valid
    groups = report.grouped()
    assert {p.column for p in groups["cellule obligatoire vide"]} == {
        "BGT_CONTNAT", "BGT_CONTNAT_LABEL", "BGT_SECTION"}
    natdec = [p for p in groups["valeur invalide"] if p.column == "BGT_NATDEC"]
    assert natdec and "« Budget primitif » n'est pas une valeur admise" in natdec[0].message
    assert natdec[0].row == 2


def _edit(data: bytes, row: int, column: str, value: str) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    rows[row - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def test_siret_key_year_and_unbalanced_budget_are_reported_with_their_line() -> None:
    data = scdl_csv_bytes(parsed(TOTEM / "crach_lotissement_BP_2022.xml").lines)
    data = _edit(data, 3, "BGT_SIRET", "21560046100086")
    data = _edit(data, 5, "BGT_MTPREV", "999999.00")
    report = validate_bytes(_edit(data, 4, "BGT_ANNEE", "1999"), "faux.csv")
    assert not report.valid
    groups = report.grouped()
    assert [(p.row, p.column) for p in groups["SIRET"]] == [(3, "BGT_SIRET")]
    assert [(p.row, p.column) for p in groups["année"]] == [(4, "BGT_ANNEE")]
    # the reader refuses the year too, so the budget is checked once it is corrected
    [unread] = groups["fichier"]
    assert "ligne 4, colonne BGT_ANNEE : exercice « 1999 » invalide" in unread.message
    groups = validate_bytes(data, "faux.csv").grouped()
    assert any("déséquilibre" in p.message for p in groups["équilibre"])


def test_missing_column_is_named() -> None:
    data = scdl_csv_bytes(parsed(TOTEM / "crach_lotissement_BP_2022.xml").lines)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    without = [r[:4] + r[5:] for r in rows]  # drop BGT_CONTNAT
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(without)
    report = validate_bytes(out.getvalue().encode("utf-8"), "sans_contnat.csv")
    assert [p.message for p in report.grouped()["colonne manquante"]] == [
        "colonne BGT_CONTNAT absente de l'en-tête."]


@pytest.mark.parametrize("name", ["empty.csv", "binary.png", "zip_bomb_small.zip",
                                  "mixed_separators.csv", "truncated.xml"])
def test_validating_a_bad_file_reports_it_without_crashing(name: str) -> None:
    report = validate_file(ROOT / "tests" / "bad_inputs" / name)
    assert not report.valid
    assert report.problems


def test_order_operations_of_every_real_document_balance(totem_path: Path) -> None:
    report = validate_file(totem_path)
    assert "opérations d'ordre" not in report.grouped()


def test_siret_checksum() -> None:
    assert siret_checksum_ok("21930048000015")
    assert not siret_checksum_ok("21930048000016")
    assert siret_checksum_ok("35600000000048")  # La Poste's head office: Luhn holds
    assert siret_checksum_ok("35600000012346")  # La Poste's rule: digit sum multiple of 5


# -- anonymisation -------------------------------------------------------------------------

def budget_lines_of(data: bytes) -> list[list[tuple[str, str | None, str | None]]]:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
    return [[(c.tag, c.get("V"), c.get("Code")) for c in line]
            for line in root.iter(f"{NS}LigneBudget")]


@pytest.mark.parametrize("name", ["Montreuil_CA_2023.xml", "crach_principal_CA_2021.xml",
                                  "mohon_CFU_2023.xml", "Montpellier_CA_2018.xml"])
def test_anonymised_document_keeps_every_budget_line_and_total(name: str) -> None:
    data = (TOTEM / name).read_bytes()
    masked, report = anonymise_totem(data, name)
    assert report.total > 0
    assert budget_lines_of(masked) == budget_lines_of(data)
    again = read_totem_stream(io.BytesIO(masked), name=name)
    assert again.lines.drop(columns=["source_sha256"]).equals(
        parsed(TOTEM / name).lines.drop(columns=["source_sha256"]))


def test_natural_persons_masked_legal_persons_kept() -> None:
    data = (TOTEM / "Montreuil_CA_2023.xml").read_bytes()
    masked, report = anonymise_totem(data, "Montreuil_CA_2023.xml")
    root = etree.fromstring(masked, etree.XMLParser(resolve_entities=False))
    for concours in root.iter(f"{NS}CONCOURS"):
        nature = concours.find(f"{NS}CodNatJurBenefCA")
        name = concours.find(f"{NS}LibOrgaBenef")
        if name is None:
            continue
        if nature is None or nature.get("V") == "P3":
            assert name.get("V") == MASK
        else:
            assert name.get("V") != MASK
    assert report.kept_legal_persons == 256


def test_synthetic_annex_with_known_personal_names() -> None:
    """Real document, annex rows added with invented people: every name disappears."""
    data = (TOTEM / "crach_lotissement_BP_2022.xml").read_bytes().decode("latin-1")
    annex = (
        "<Annexes><DATA_CONCOURS>"
        "<CONCOURS><CodNatJurBenefCA V=\"P3\"/><LibOrgaBenef V=\"Jeanne Martin\"/>"
        "<ObjSubv V=\"Bourse de Jeanne Martin\"/><MtSubv V=\"300.00\"/></CONCOURS>"
        "<CONCOURS><LibOrgaBenef V=\"Paul Durand\"/><MtSubv V=\"150.00\"/></CONCOURS>"
        "<CONCOURS><CodNatJurBenefCA V=\"P1\"/><LibOrgaBenef V=\"Club de voile\"/>"
        "<MtSubv V=\"500.00\"/></CONCOURS></DATA_CONCOURS>"
        "<DATA_PRET><PRET><NomBenefPret V=\"Lucie Bernard\"/><MtCapitalExer V=\"1000.0\"/>"
        "</PRET></DATA_PRET>"
        "<DATA_PERSONNEL><PERSONNEL><RemunAgent V=\"28000\"/><EffectifBud V=\"1\"/>"
        "</PERSONNEL></DATA_PERSONNEL></Annexes>")
    with_annex = data.replace("</Budget>", annex + "</Budget>", 1).encode("latin-1")
    masked, report = anonymise_totem(with_annex, "synthetique.xml")
    text = masked.decode("latin-1")
    for person in ("Jeanne Martin", "Paul Durand", "Lucie Bernard", "28000"):
        assert person not in text
    assert "Club de voile" in text and 'MtSubv V="300.00"' in text
    assert report.masked[("CONCOURS", "LibOrgaBenef")] == 2
    assert report.masked[("CONCOURS", "ObjSubv")] == 1
    assert report.masked[("PRET", "NomBenefPret")] == 1
    assert budget_lines_of(masked) == budget_lines_of(with_annex)


def test_anonymising_a_broken_file_is_refused() -> None:
    with pytest.raises(FormatError, match="XML mal formé"):
        anonymise_totem(b"<DocumentBudgetaire><Budget>", "casse.xml")


def test_anonymiser_refuses_a_dtd_and_a_foreign_root_as_the_reader_does() -> None:
    """The reader's own root and DTD check: a real document given a harmless DOCTYPE, and an
    XML file that is no budget, are refused with the reader's messages."""
    data = (TOTEM / "crach_lotissement_BP_2022.xml").read_bytes()
    declaration, rest = data.split(b"\n", 1)
    with_doctype = declaration + b"\n<!DOCTYPE DocumentBudgetaire>\n" + rest
    for name, content, words in [
            ("dtd.xml", with_doctype, "déclare une DTD"),
            ("not_budget.xml", (BAD / "not_budget.xml").read_bytes(),
             "n'est pas un document budgétaire TOTEM")]:
        with pytest.raises(FormatError, match=words) as caught:
            anonymise_totem(content, name)
        assert name in str(caught.value) and "Que faire" in str(caught.value)


@pytest.mark.parametrize("name", ["xxe_file.xml", "billion_laughs.xml"])
def test_anonymiser_never_expands_entities(name: str) -> None:
    with pytest.raises(FormatError) as caught:
        anonymise_totem((BAD / name).read_bytes(), name)
    assert "root:" not in str(caught.value)  # /etc/passwd never read


# -- metadata ------------------------------------------------------------------------------

def test_metadata_sheet_from_the_documents() -> None:
    documents = [parsed(TOTEM / f"Montreuil_CA_{year}.xml").info for year in (2021, 2022, 2023)]
    sheet = dataset_metadata(documents)
    assert sheet["title"] == "Budgets de Ville De Montreuil (2021-2023)"
    assert sheet["organization"] == {"name": "VILLE DE MONTREUIL", "siren": "219300480"}
    assert sheet["license"] == "lov2"
    assert sheet["temporal_coverage"] == {"start": "2021-01-01", "end": "2023-12-31"}
    assert sheet["schema"] == {"name": "scdl/budget", "version": "0.8.3"}
    dcat = sheet["dcat"]
    assert dcat["dct:conformsTo"] == "https://schema.data.gouv.fr/scdl/budget/0.8.3/"
    json.dumps(sheet)  # ready to send as JSON


# -- coverage ------------------------------------------------------------------------------

def test_coverage_of_the_morbihan_in_the_demo_data() -> None:
    catalogue = Store(DEMO_DIR).documents()
    frame = commune_coverage(catalogue, "56", "CA", 2021)
    published, total, share = summary(frame)
    assert (published, total) == (1, 249)  # Crach, of the 249 communes of the Morbihan
    assert frame.loc[frame["published"], "name"].tolist() == ["Crach"]
    by_departement = departement_coverage(catalogue, "CA", 2021, region="53").set_index(
        "departement")
    assert by_departement.loc["56", "published"] == 1
    assert share == pytest.approx(1 / 249)


def test_the_publication_map_opens_where_someone_has_published() -> None:
    catalogue = Store(DEMO_DIR).documents()
    # Latest year of the demo: Montreuil's CA 2023 (Seine-Saint-Denis, Île-de-France) and
    # Mohon's CFU 2023 (Morbihan), one commune each: the stage order breaks the tie.
    assert busiest(catalogue) == {"stage": "CA", "year": 2023, "region": "11",
                                  "departement": "93"}
    frame = commune_coverage(catalogue, "93", "CA", 2023)
    assert summary(frame)[0] == 1
    assert busiest(catalogue[catalogue["budget_kind"] == "annexe"]) is None


def test_every_region_is_offered_with_its_name() -> None:
    """The 18 régions (13 of métropole, 5 DROM), each the région of some commune of the COG."""
    names = regions()
    assert len(names) == 18
    assert set(names) == set(population.table()["region"].dropna())
    assert (names["44"], names["94"], names["06"]) == ("Grand Est", "Corse", "Mayotte")
    assert list(names.values())[:2] == ["Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté"]
