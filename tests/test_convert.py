"""`convert`, `inspect` and `validate` of a TOTEM document stream it: each line is mapped by the
one mapping the app's frames use and written (or summed) as it is read. What they write is
checked against the document's own figures (plain XPath, `tests/rawxml.py`) and against the
frame path, and what they load is checked in a real process."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from budget_core.convert import convert_file
from budget_core.errors import FormatError
from budget_core.model import AMOUNT_FIELDS, main_amount_column
from budget_core.scdlwrite import AMOUNT_COLUMNS, scdl_csv_bytes
from budget_core.summary import document_summary, file_summaries
from budget_core.validate import budget_problems
from tests.conftest import FIXTURES, TOTEM, parsed
from tests.rawxml import budget_lines, sums_by_direction_and_order

BAD = Path(__file__).parent / "bad_inputs"
CODRD = {"dépense": "D", "recette": "R"}
OPBUDG = {"réel": "0", "ordre": "1"}


def streamed(path: Path, folder: Path) -> bytes:
    out = folder / "out.csv"
    convert_file(path, out)
    return out.read_bytes()


def test_streamed_csv_holds_the_documents_own_amounts(totem_path: Path, tmp_path: Path) -> None:
    """Every budget line of the document is one row, and every amount column sums, by
    direction and real/order, to what the document's LigneBudget elements state."""
    rows = list(csv.DictReader(io.StringIO(streamed(totem_path, tmp_path).decode("utf-8"))))
    assert len(rows) == len(budget_lines(totem_path))
    by_element = {element: f"BGT_{element.upper()}" for element in AMOUNT_FIELDS}
    for element, column in by_element.items():
        sums: dict[tuple[str, str], Decimal] = {}
        for row in rows:
            key = (CODRD[row["BGT_CODRD"]], OPBUDG[row["BGT_OPBUDG"]])
            sums[key] = sums.get(key, Decimal(0)) + Decimal(row[column] or "0")
        assert sums == sums_by_direction_and_order(totem_path, element), element
    assert set(by_element.values()) == set(AMOUNT_COLUMNS)


def test_streamed_csv_is_the_frames_csv(totem_path: Path, tmp_path: Path) -> None:
    """Byte for byte what the app's download writes from the document's frame."""
    assert streamed(totem_path, tmp_path) == scdl_csv_bytes(parsed(totem_path).lines)


@pytest.mark.parametrize("name", ["duplicated_lines.xml", "utf16.xml", "utf16_no_bom.xml",
                                  "html_names.xml", "population_superscript.xml"])
def test_odd_documents_stream_as_their_frames(name: str, tmp_path: Path) -> None:
    """Copied lines, UTF-16, names holding markup: the streamed CSV is the frame's."""
    from budget_core.totem import read_totem

    assert streamed(BAD / name, tmp_path) == scdl_csv_bytes(read_totem(BAD / name).lines)


def test_comments_inside_budget_lines_are_ignored(tmp_path: Path) -> None:
    """A comment or a processing instruction inside a LigneBudget holds no value: the rows
    are the document's own, as if they were not there (they made the reader fail with a
    Python traceback instead of reading the line)."""
    source = TOTEM / "crach_lotissement_DM1_2022.xml"
    commented = tmp_path / "commented.xml"
    commented.write_bytes(source.read_bytes().replace(
        b"<LigneBudget>", b"<LigneBudget><!-- saisie du 3 mai --><?editeur x?>"))
    rows = list(csv.DictReader(io.StringIO(streamed(commented, tmp_path).decode("utf-8"))))
    assert len(rows) == len(budget_lines(source)) == 20
    sums: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (CODRD[row["BGT_CODRD"]], OPBUDG[row["BGT_OPBUDG"]])
        sums[key] = sums.get(key, Decimal(0)) + Decimal(row["BGT_MTPREV"] or "0")
    assert sums == sums_by_direction_and_order(source, "MtPrev")


def test_a_document_cut_mid_lines_keeps_the_previous_output(tmp_path: Path) -> None:
    """Rows are written as they are read, to a temporary file: a document that breaks after
    its first lines leaves the previous output as it was, and no temporary file behind."""
    data = (TOTEM / "Montreuil_CA_2016.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[:len(data) // 2])
    out = tmp_path / "out" / "budget.csv"
    out.parent.mkdir()
    out.write_text("précédent")
    with pytest.raises(FormatError, match="XML mal formé"):
        convert_file(cut, out)
    assert out.read_text() == "précédent"
    assert list(out.parent.iterdir()) == [out]


def test_summaries_sum_the_documents_main_amount(totem_path: Path) -> None:
    """`inspect` and `validate` sum a TOTEM document as they read it: the stage's main amount
    by direction and real/order is what the document states."""
    [summary] = file_summaries(totem_path)
    amount = next(element for element, column in AMOUNT_FIELDS.items()
                  if column == main_amount_column(summary.info.stage))
    sums: dict[tuple[str, str], Decimal] = {}
    for (_, direction, kind), value in summary.sums.amount.items():
        key = ("D" if direction == "depense" else "R", "1" if kind == "ordre" else "0")
        sums[key] = sums.get(key, Decimal(0)) + value
    expected = sums_by_direction_and_order(totem_path, amount)
    assert sums == expected
    assert summary.sums.count == len(budget_lines(totem_path))


def test_streamed_summary_is_the_frames(totem_path: Path) -> None:
    """Streamed or from the frame, a document has the same summary and the same problems."""
    [streamed_summary] = file_summaries(totem_path)
    framed = document_summary(parsed(totem_path))
    assert streamed_summary.sums == framed.sums
    assert (streamed_summary.info, streamed_summary.warnings,
            streamed_summary.calculated_lines_skipped, streamed_summary.duplicate_lines) == \
        (framed.info, framed.warnings, framed.calculated_lines_skipped, framed.duplicate_lines)
    assert list(budget_problems([streamed_summary])) == list(budget_problems([framed]))


# What a command may not load for a TOTEM document: the app's stack, the SCDL validator, the
# HTTP client, the frame libraries (each costs 0.1 to 0.5 s and tens of MB at every call).
HEAVY = ("streamlit", "altair", "plotly", "duckdb", "frictionless", "requests", "pandas",
         "pyarrow", "numpy")
# Nor what is off a TOTEM command's path, each a few ms at every start: file locks (and the
# logging they load), datetime, lxml (the stream is parsed by the standard library's expat);
# OpenSSL's hashlib but for `inspect`, which prints the SHA-256.
OFF_PATH = ("filelock", "logging", "datetime", "lxml")
LOADED = ("import sys\nfrom budget_core.cli import main\ncode = main(sys.argv[1:])\n"
          "print('LOADED', *sorted({m.partition('.')[0] for m in sys.modules}), "
          "file=sys.stderr)\nsys.exit(code)")


@pytest.mark.parametrize("command", [["convert", "-o", "{out}"], ["inspect"], ["inspect", "--json"],
                                     ["validate"]])
def test_totem_commands_load_only_what_they_need(command: list[str], tmp_path: Path) -> None:
    args = [part.format(out=tmp_path / "out.csv") for part in command]
    result = subprocess.run([sys.executable, "-c", LOADED, args[0],
                             str(TOTEM / "crach_principal_BP_2022.xml"), *args[1:]],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    loaded = next(line for line in result.stderr.splitlines()
                  if line.startswith("LOADED")).split()
    assert "pyexpat" in loaded  # the check sees the modules a command did load
    assert [name for name in HEAVY if name in loaded] == []
    assert [name for name in OFF_PATH if name in loaded] == []
    assert ("hashlib" in loaded) == (args[0] == "inspect")


def test_scdl_conversion_still_goes_through_its_frames(tmp_path: Path) -> None:
    """An SCDL file converts through the SCDL reader's documents: its rows, same writer."""
    source = FIXTURES / "scdl_expected" / "crach_lotissement_BP_2022.csv"
    out = tmp_path / "again.csv"
    rows = convert_file(source, out)
    assert rows == sum(1 for _ in csv.DictReader(io.StringIO(source.read_text("utf-8"))))
    assert out.read_text("utf-8").startswith("BGT_NATDEC,BGT_ANNEE,")
