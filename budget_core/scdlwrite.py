"""Canonical lines → SCDL « budget » 0.8.3 CSV: the columns of the schema, and the writer.

One row function (`scdl_cells`) for every path: the lines of a frame (the app's download) and
the lines a TOTEM document yields as it is read (`convert`, written as they come, in bounded
memory). Comma separated, UTF-8, decimal point; text cells a spreadsheet would run as formulas
are prefixed with `'`. Imports nothing heavy: `convert` loads neither pandas nor pyarrow.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from budget_core.model import AMOUNT_FIELDS

if TYPE_CHECKING:
    import pandas as pd

    from budget_core.model import BudgetDocument

SCHEMA_VERSION = "0.8.3"
FIELDS = ("BGT_NATDEC", "BGT_ANNEE", "BGT_SIRET", "BGT_NOM", "BGT_CONTNAT", "BGT_CONTNAT_LABEL",
          "BGT_NATURE", "BGT_NATURE_LABEL", "BGT_FONCTION", "BGT_FONCTION_LABEL",
          "BGT_OPERATION", "BGT_SECTION", "BGT_OPBUDG", "BGT_CODRD", "BGT_MTREAL",
          "BGT_MTBUDGPREC", "BGT_MTRARPREC", "BGT_MTPROPNOUV", "BGT_MTPREV", "BGT_CREDOUV",
          "BGT_MTRAR3112", "BGT_ARTSPE")
# SCDL amount column → canonical column.
AMOUNT_COLUMNS = {f"BGT_{field.upper()}": column for field, column in AMOUNT_FIELDS.items()}
# The canonical amount columns in the order FIELDS writes them (BGT_MTREAL first).
ROW_AMOUNTS = tuple(AMOUNT_COLUMNS[field] for field in FIELDS if field in AMOUNT_COLUMNS)

ARTSPE_LABEL: dict[object, str] = {True: "spécialisé", False: "non spécialisé"}
# The schema's enum has no CFU: a compte financier unique is published as a compte administratif.
NATDEC_LABEL = {"BP": "budget primitif", "BS": "budget supplémentaire",
                "DM": "décision modificative", "CA": "compte administratif",
                "CFU": "compte administratif"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A text cell a spreadsheet would run as a formula (`=cmd|...`) is prefixed with `'`.

    Numbers (including negative amounts) are left alone: only text is neutralised.
    """
    if cell.startswith(FORMULA_STARTS):
        try:
            float(cell)
        except ValueError:
            return "'" + cell
    return cell


def scdl_cells(line: Mapping[str, object]) -> list[str]:
    """One canonical line ({column: value}, None when missing) → its SCDL row, in FIELDS order
    (built as a list in that order: once per line of every document converted)."""
    return [
        NATDEC_LABEL[str(line["stage"])], str(line["year"]), str(line["siret"]),
        str(line["entity_name"]), str(line["vote_chapter"] or line["chapter_code"]),
        str(line["chapter_label"]), str(line["nature_code"]), str(line["nature_label"]),
        str(line["fonction_code"]), str(line["fonction_label"]), str(line["operation_code"]),
        str(line["section"]), "ordre" if line["operation_kind"] == "ordre" else "réel",
        "dépense" if line["direction"] == "depense" else "recette",
        *("" if line[column] is None else str(line[column]) for column in ROW_AMOUNTS),
        ARTSPE_LABEL.get(line["specialised"], ""),
    ]


# Rows of a frame turned into Python objects at a time: a whole document's would take ~2 kB a
# line (gigabytes for a big SCDL file), where its Arrow columns take ~550 bytes.
RECORDS_BATCH = 10_000


def frame_records(lines: pd.DataFrame) -> Iterator[dict[str, object]]:
    """A lines frame's rows as {column: value}, a missing value as None (not pandas' NA),
    produced RECORDS_BATCH rows at a time from the frame's Arrow columns."""
    import pyarrow as pa  # loaded with any lines frame

    table = pa.Table.from_pandas(lines, preserve_index=False)
    for batch in table.to_batches(max_chunksize=RECORDS_BATCH):
        yield from batch.to_pylist()


def to_scdl_rows(lines: pd.DataFrame) -> list[list[str]]:
    """Canonical lines → SCDL 0.8.3 rows (header first), in the document's line order."""
    return [list(FIELDS), *map(scdl_cells, frame_records(lines))]


def write_scdl(out: TextIO, lines: Iterable[Mapping[str, object]]) -> int:
    """Write the SCDL CSV of `lines` (header first) to `out` as they come; the rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    count = 0
    for line in lines:
        writer.writerow([neutralise(cell) if cell.startswith(FORMULA_STARTS) else cell
                         for cell in scdl_cells(line)])
        count += 1
    return count


def documents_csv_bytes(documents: Sequence[BudgetDocument]) -> bytes:
    """One SCDL CSV for all the documents a file held."""
    buffer = io.StringIO()
    write_scdl(buffer, (line for document in documents
                        for line in frame_records(document.lines)))
    return buffer.getvalue().encode("utf-8")


def scdl_csv_bytes(lines: pd.DataFrame) -> bytes:
    """The SCDL CSV of canonical lines: comma separated, UTF-8, decimal point."""
    buffer = io.StringIO()
    write_scdl(buffer, frame_records(lines))
    return buffer.getvalue().encode("utf-8")
