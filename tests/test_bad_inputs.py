"""Every bad input gives our own clear error or a safe result — never a crash, never a leak."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget_core.errors import BudgetError, FormatError
from budget_core.fmt import md_escape
from budget_core.formats import read_documents, read_uploaded
from budget_core.scdl import csv_safe_bytes, read_scdl
from budget_core.scdlwrite import scdl_csv_bytes
from budget_core.totem import read_totem
from budget_core.validate import validate_file
from tests.conftest import FIXTURES, TOTEM, parsed

BAD = Path(__file__).parent / "bad_inputs"


@pytest.mark.parametrize(("name", "words"), [
    ("truncated.xml", r"ligne 357 : XML mal formé"),
    ("xxe_file.xml", "DTD"),
    ("xxe_network.xml", "DTD"),
    ("billion_laughs.xml", "DTD"),
    ("lying_encoding.xml", "encodage incohérent"),
    ("not_budget.xml", "n'est pas un document budgétaire TOTEM"),
    ("mixed_separators.csv", "ligne 2 : la ligne n'a pas le même nombre de colonnes"),
    ("wrong_columns.csv", "colonnes obligatoires absentes"),
    ("empty.csv", "fichier vide"),
    ("binary.png", "fichier PNG"),
    ("zip_bomb_small.zip", "fichier ZIP"),
])
def test_each_bad_file_gets_its_clear_error(name: str, words: str) -> None:
    with pytest.raises(FormatError, match=words) as caught:
        read_documents(BAD / name)
    assert name in str(caught.value) and "Que faire" in str(caught.value)
    assert "root:" not in str(caught.value)  # /etc/passwd never read


@pytest.mark.parametrize("reader", [read_documents, read_totem, read_scdl])
def test_a_missing_file_or_a_folder_is_our_error(tmp_path: Path,
                                                 reader: Callable[[Path], object]) -> None:
    for path in (tmp_path / "absent.xml", tmp_path):
        with pytest.raises(FormatError, match="lecture impossible") as caught:
            reader(path)
        assert path.name in str(caught.value) and "Que faire" in str(caught.value)


def test_validating_a_missing_file_reports_it() -> None:
    report = validate_file(BAD / "absent.csv")
    assert not report.valid
    [problem] = report.problems
    assert "absent.csv" in problem.message and "lecture impossible" in problem.message


def test_external_dtd_is_never_fetched() -> None:
    """xxe_network.xml points at 127.0.0.1:9; a listening socket would see a connection."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        data = (BAD / "xxe_network.xml").read_bytes().replace(b"127.0.0.1:9",
                                                                f"127.0.0.1:{port}".encode())
        with pytest.raises(FormatError, match="DTD"):
            read_uploaded(data, "xxe.xml")
        with pytest.raises(TimeoutError):
            listener.accept()


def test_latin1_semicolon_file_reads() -> None:
    [document] = read_documents(BAD / "latin1_semicolon.csv")
    assert document.info.entity_name == "CRACH" and len(document.lines) == 1


def test_formula_cells_are_neutralised_in_every_csv_we_write() -> None:
    [document] = read_documents(BAD / "formula_injection.csv")
    assert set(document.lines["entity_name"]) == {"=cmd|' /C calc'!A0"}
    assert "@SUM(1+1)" in set(document.lines["nature_label"])  # nature 99999: not in the plan
    for written in (scdl_csv_bytes(document.lines), csv_safe_bytes(document.lines)):
        for row in csv.reader(io.StringIO(written.decode("utf-8-sig"))):
            for cell in row:
                assert not cell.startswith(("=", "@", "+")), cell
                if cell.startswith("-"):
                    float(cell)  # only negative numbers may start with "-"


def test_html_and_markdown_in_names_are_text() -> None:
    [document] = read_documents(BAD / "html_names.xml")
    name = document.info.entity_name
    assert name.startswith("<script>")
    shown = md_escape(name)
    assert "\\<script\\>" in shown and "\\[clic\\]\\(javascript\\:" in shown


SINGLE_LINE = {  # head, repeated unit, tail, the error
    "csv": (b"BGT_NATDEC,", b"A" * 1000, b"", "aucune fin de ligne dans le premier Mo"),
    "xml-elements": (
        b'<DocumentBudgetaire xmlns="http://www.minefi.gouv.fr/cp/demat/docbudgetaire">',
        b'<LibelleColl V="x"/>' * 50, b"</DocumentBudgetaire>", "document incomplet"),
    # text is never handed to Python nor held by expat: read past, whatever its size
    "xml-text": (
        b'<DocumentBudgetaire xmlns="http://www.minefi.gouv.fr/cp/demat/docbudgetaire"><a>',
        b"x" * 1000, b"</a></DocumentBudgetaire>", "document incomplet"),
    # a tag is held whole until it ends: refused past 10 MB, before it costs more memory
    "xml-attribute": (
        b'<DocumentBudgetaire xmlns="http://www.minefi.gouv.fr/cp/demat/docbudgetaire"><a V="',
        b"x" * 1000, b'"/></DocumentBudgetaire>', "plus de 10 Mo d'un seul tenant"),
}


@pytest.mark.parametrize(("kind", "megabytes"), [
    # just past each reader's limit: the SCDL header's 1 MB, a TOTEM tag's 10 MB
    ("csv", 2), ("xml-text", 11), ("xml-attribute", 11),
    *(pytest.param(kind, 200, marks=pytest.mark.slow) for kind in SINGLE_LINE),
], ids=lambda value: f"{value}MB" if isinstance(value, int) else value)
def test_single_line_files(tmp_path: Path, kind: str, megabytes: int) -> None:
    head, unit, tail, words = SINGLE_LINE[kind]
    path = tmp_path / "une_ligne"
    with path.open("wb") as out:
        out.write(head)
        for _ in range(megabytes * 1_000_000 // len(unit)):
            out.write(unit)
        out.write(tail)
    with pytest.raises(FormatError, match=words):
        read_documents(path)


# -- property-based -----------------------------------------------------------------------

SMALL_TOTEM = (TOTEM / "crach_lotissement_BP_2022.xml").read_bytes()
SMALL_SCDL = (FIXTURES / "scdl_expected" / "crach_lotissement_BP_2022.csv").read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_any_bytes_give_a_document_or_our_error(data: bytes) -> None:
    with contextlib.suppress(BudgetError):
        read_uploaded(data, "hasard.bin")


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_real_files_give_a_document_or_our_error(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from([SMALL_TOTEM, SMALL_SCDL]))
    position = data.draw(st.integers(0, len(source) - 1))
    action = data.draw(st.sampled_from(["cut", "insert", "replace"]))
    chunk = data.draw(st.binary(min_size=1, max_size=20))
    if action == "cut":
        mutated = source[:position]
    elif action == "insert":
        mutated = source[:position] + chunk + source[position:]
    else:
        mutated = source[:position] + chunk + source[position + len(chunk):]
    with contextlib.suppress(BudgetError):
        read_uploaded(mutated, "mute")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(list(range(21))), min_size=1, max_size=21, unique=True))
def test_round_trip_of_any_subset_of_lines_keeps_totals(rows: list[int]) -> None:
    lines = parsed(TOTEM / "crach_lotissement_BP_2022.xml").lines.iloc[sorted(rows)]
    [back] = read_uploaded(scdl_csv_bytes(lines), "aller_retour.csv",
                           nomenclature="M14-M14_COM_500_3500")
    for column in ("mt_prev", "mt_budg_prec", "cred_ouv", "amount"):
        assert back.lines[column].sum() == lines[column].sum()
    assert list(back.lines["chapter_code"]) == list(lines["chapter_code"])
