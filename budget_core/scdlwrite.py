"""Canonical lines → SCDL « budget » 0.8.3 CSV: the columns of the schema, and the writer.

One row function (`scdl_cells`) for every path: the lines of a frame (the app's download) and
the lines a TOTEM document yields as it is read (`convert`, written as they come, in bounded
memory). Comma separated, UTF-8, decimal point; text cells a spreadsheet would run as formulas
are prefixed with `'`. Imports nothing heavy: `convert` loads neither pandas nor pyarrow.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO, cast

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
    """One canonical line ({column: value}, None when missing) → its SCDL row, in FIELDS order."""
    values = {
        "BGT_NATDEC": NATDEC_LABEL[str(line["stage"])], "BGT_ANNEE": str(line["year"]),
        "BGT_SIRET": line["siret"], "BGT_NOM": line["entity_name"],
        "BGT_CONTNAT": line["vote_chapter"] or line["chapter_code"],
        "BGT_CONTNAT_LABEL": line["chapter_label"],
        "BGT_NATURE": line["nature_code"], "BGT_NATURE_LABEL": line["nature_label"],
        "BGT_FONCTION": line["fonction_code"], "BGT_FONCTION_LABEL": line["fonction_label"],
        "BGT_OPERATION": line["operation_code"], "BGT_SECTION": line["section"],
        "BGT_OPBUDG": "ordre" if line["operation_kind"] == "ordre" else "réel",
        "BGT_CODRD": "dépense" if line["direction"] == "depense" else "recette",
        "BGT_ARTSPE": ARTSPE_LABEL.get(line["specialised"], ""),
        **{field: "" if line[column] is None else str(line[column])
           for field, column in AMOUNT_COLUMNS.items()},
    }
    return [str(values[field]) for field in FIELDS]


def frame_records(lines: pd.DataFrame) -> list[dict[str, object]]:
    """A lines frame's rows as {column: value}, a missing value as None (not pandas' NA)."""
    records = lines.astype(object).where(lines.notna(), None).to_dict("records")
    return cast(list[dict[str, object]], records)  # a lines frame's columns are names


def to_scdl_rows(lines: pd.DataFrame) -> list[list[str]]:
    """Canonical lines → SCDL 0.8.3 rows (header first), in the document's line order."""
    return [list(FIELDS), *map(scdl_cells, frame_records(lines))]


def write_scdl(out: TextIO, lines: Iterable[Mapping[str, object]]) -> int:
    """Write the SCDL CSV of `lines` (header first) to `out` as they come; the rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    count = 0
    for line in lines:
        writer.writerow([neutralise(cell) for cell in scdl_cells(line)])
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
