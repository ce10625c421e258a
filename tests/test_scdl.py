"""SCDL budget CSV: our export conforms to the official schema; every real variant reads."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from frictionless import Resource, Schema, system, validate
from lxml import etree

from budget_core.analysis import section_totals
from budget_core.errors import FormatError
from budget_core.model import AMOUNT_FIELDS
from budget_core.nomenclature import Chapter, Plan, load_plan
from budget_core.scdl import parse_scdl_bytes, read_scdl
from budget_core.scdlwrite import AMOUNT_COLUMNS, FIELDS, scdl_csv_bytes, to_scdl_rows
from tests.conftest import FIXTURES, TOTEM, parsed
from tests.rawxml import (
    budget_lines,
    canonical_sums_by_direction_and_order,
    sums_by_direction_and_order,
    value,
)

EXPECTED = FIXTURES / "scdl_expected"


def frictionless_errors(path: Path) -> list[list[object]]:
    schema = Schema.from_descriptor(str(Path("budget_core/data/scdl_budget_schema_0.8.3.json")))
    with system.use_context(trusted=True):
        report = validate(Resource(path=str(path), schema=schema))
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_export_conforms_to_the_official_schema(totem_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "budget.csv"
    out.write_bytes(scdl_csv_bytes(parsed(totem_path).lines))
    assert frictionless_errors(out) == []


def test_our_export_reads_back_to_the_documents_own_figures(totem_path: Path) -> None:
    """TOTEM → our SCDL → read again: every amount summed as the raw XML states it, every
    vote chapter (ContNat) as the document gives it."""
    document = parsed(totem_path)
    [back] = parse_scdl_bytes(scdl_csv_bytes(document.lines), name="x.csv",
                              nomenclature=f"{document.info.nomenclature}-"
                                           f"{document.info.declinaison}")
    for element, column in AMOUNT_FIELDS.items():
        assert canonical_sums_by_direction_and_order(back.lines, column) == \
            sums_by_direction_and_order(totem_path, element), element
    raw = budget_lines(totem_path)
    assert list(back.lines["nature_code"]) == [value(line, "Nature") for line in raw]
    stated = [value(line, "ContNat") for line in raw]
    assert [chapter for chapter, contnat in zip(back.lines["vote_chapter"], stated, strict=True)
            if contnat is not None] == [contnat for contnat in stated if contnat is not None]


@pytest.mark.parametrize("name", sorted(p.stem for p in EXPECTED.glob("*.csv")
                                        if (TOTEM / f"{p.stem}.xml").exists()))
def test_reference_converter_output_reads_to_the_documents_own_totals(name: str) -> None:
    """The CSV yatotem2scdl wrote from a document reads to that document's raw XML sums."""
    [document] = read_scdl(EXPECTED / f"{name}.csv")
    for element, column in AMOUNT_FIELDS.items():
        assert canonical_sums_by_direction_and_order(document.lines, column) == \
            sums_by_direction_and_order(TOTEM / f"{name}.xml", element), element


# Where our export and the reference converter (yatotem2scdl) differ, and why the document wins:
#  - BGT_NATDEC: the reference writes "Budget primitif"; the schema's enum is lower case.
#  - BGT_CONTNAT / _LABEL / BGT_SECTION: the reference leaves them empty when the line has no
#    ContNat (income voted globally), and the label of a third-party chapter (4581001); we
#    take the chapter, its label and section from the DGFiP plan.
#  - BGT_ARTSPE: the reference writes "" when ArtSpe is absent... as we do; it writes
#    "non spécialisé" where the document says false, as we do. No difference expected.
#  - BGT_NATURE_LABEL (Saint-Malo 2022 only): the reference read the copy of the 2020 plan
#    that sits in the 2022 folder ("Versement de transport"); we use the genuine nearest plan,
#    2021, where the account was renamed "Versement de mobilité" (loi LOM 2019).
# Formatting that means the same value is no difference: `0` and `0.00`, a trailing space.
FROM_THE_PLAN = {"BGT_CONTNAT", "BGT_CONTNAT_LABEL", "BGT_SECTION"}
SECTION_NAMES = {"F": "fonctionnement", "I": "investissement"}
# The plan's column naming a nature's chapter, by CodRD and kind of operation (OpBudg 0 real;
# else TypOpBudg 2 between sections, 1 within a section).
PLAN_COLUMN = {("D", "0"): "dr", ("R", "0"): "rr", ("D", "2"): "does", ("R", "2"): "roes",
               ("D", "1"): "dois", ("R", "1"): "rois"}


def cell_value(field: str, text: str) -> Decimal | str | None:
    """What a cell means: amounts as numbers (`0` = `0.00`), text without edge spaces."""
    if field in AMOUNT_COLUMNS:
        return Decimal(text) if text.strip() else None
    return text.strip()


def plan_chapter(plan: Plan, line: etree._Element) -> Chapter:
    """The DGFiP plan's chapter for a raw line's nature, direction and kind of operation."""
    nature = value(line, "Nature") or ""
    if nature in plan.chapters:  # 001, 002, 021, 023, 024: natures and chapters at once
        return plan.chapters[nature]
    kind = "0" if value(line, "OpBudg") == "0" else value(line, "TypOpBudg") or ""
    account = plan.accounts[nature]
    return plan.chapters[getattr(account, PLAN_COLUMN[(value(line, "CodRD") or "", kind)])]


@pytest.mark.parametrize("name", sorted(p.stem for p in EXPECTED.glob("*.csv")
                                        if (TOTEM / f"{p.stem}.xml").exists()))
def test_export_matches_the_reference_converter_but_for_explained_quirks(name: str) -> None:
    document = parsed(TOTEM / f"{name}.xml")
    plan = load_plan(document.info.declinaison, document.info.plan_year)
    raw = budget_lines(TOTEM / f"{name}.xml")
    ours = to_scdl_rows(document.lines)
    theirs = list(csv.reader((EXPECTED / f"{name}.csv").open(encoding="utf-8")))
    assert ours[0] == theirs[0] == list(FIELDS)
    assert len(ours) == len(theirs) == len(raw) + 1
    differences: Counter[str] = Counter()
    for mine, reference, line in zip(ours[1:], theirs[1:], raw, strict=True):
        chapter = plan_chapter(plan, line)
        from_plan = {"BGT_CONTNAT": value(line, "ContNat") or chapter.code,
                     "BGT_CONTNAT_LABEL": chapter.label,
                     "BGT_SECTION": SECTION_NAMES[chapter.section]}
        for field, a, b in zip(FIELDS, mine, reference, strict=True):
            if cell_value(field, a) == cell_value(field, b):
                continue
            differences[field] += 1
            if field == "BGT_NATDEC":
                assert a == b.lower()
            elif field in FROM_THE_PLAN:
                assert (b, a) == ("", from_plan[field]), (field, value(line, "Nature"))
            else:
                assert name == "saint_malo_agglo_transport_BP_2022"
                assert field == "BGT_NATURE_LABEL"
    assert set(differences) <= {"BGT_NATDEC", *FROM_THE_PLAN, "BGT_NATURE_LABEL"}
    assert differences["BGT_NATDEC"] == len(raw)


def test_real_scdl_file_from_the_morbihan_reads_with_m57_detected() -> None:
    [document] = read_scdl(EXPECTED / "morbihan_CA_2021.csv")
    info = document.info
    assert (info.siret, info.entity_type, info.year, info.stage) == (
        "22560001400016", "departement", 2021, "CA")
    assert (info.nomenclature, info.declinaison) == ("M57", "M57")
    assert len(document.lines) == 1273
    real = section_totals(document.lines, ["mt_real"])
    real = real[real["operation_kind"] == "reel"].set_index(["section", "direction"])
    assert str(real.loc[("fonctionnement", "depense"), "mt_real"]) == "579413310.56"


def test_french_variants_read_the_same(tmp_path: Path) -> None:
    """`;`, Latin-1, decimal comma, codes instead of labels: the same figures."""
    source = (EXPECTED / "crach_lotissement_CA_2021.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(source)))
    codes = {"Compte administratif": "CA", "dépense": "D", "recette": "R", "réel": "0",
             "ordre": "1"}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for row in rows:
        row = [codes.get(cell, cell) for cell in row]
        writer.writerow([cell.replace(".", ",") if cell[:1].isdigit() and "." in cell
                         else cell for cell in row])
    [variant] = parse_scdl_bytes(out.getvalue().encode("latin-1"), name="variante.csv")
    for element, column in AMOUNT_FIELDS.items():
        assert canonical_sums_by_direction_and_order(variant.lines, column) == \
            sums_by_direction_and_order(TOTEM / "crach_lotissement_CA_2021.xml", element)
    assert variant.info.stage == "CA"


@pytest.mark.parametrize(("content", "words"), [
    (b"", "fichier vide"),
    (b"BGT_ANNEE,BGT_SIRET\n2022,21560046100085\n", "colonnes obligatoires absentes : "
     "BGT_NATDEC, BGT_NATURE, BGT_CODRD"),
    (b"BGT_NATDEC,BGT_ANNEE,BGT_SIRET,BGT_NATURE,BGT_CODRD\n", "aucune ligne de données"),
    (b"BGT_NATDEC,BGT_ANNEE,BGT_SIRET,BGT_NATURE,BGT_CODRD,BGT_MTREAL\n"
     b"CA,2022,21560046100085,6411,D,douze\n", "ligne 2.*montant « douze »"),
    (b"BGT_NATDEC,BGT_ANNEE,BGT_SIRET,BGT_NATURE,BGT_CODRD\nXX,2022,21560046100085,6411,D\n",
     "valeur « XX » inconnue dans BGT_NATDEC"),
])
def test_bad_csv_gives_a_clear_error(content: bytes, words: str) -> None:
    with pytest.raises(FormatError, match=words):
        parse_scdl_bytes(content, name="mauvais.csv")
