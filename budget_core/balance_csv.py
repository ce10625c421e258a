"""Reading a DGFiP « balances comptables » CSV export: its header, its rows, the identity check.

A balance gives, for every budget (SIRET `ident`) and account (`compte`) of a year: the entry
balance (`bedeb`/`becre`), budget operations net of cancellations (`obnetdeb`/`obnetcre`,
**order operations included**), non-budget operations (`onbdeb`/`onbcre`), order operations
alone (`oobdeb`/`oobcre`) and the closing balance (`sd`/`sc`).

Headers, as confirmed (no other header is read: an unknown or missing column is refused):
- 2016 onwards: the 2024 sample of tests/fixtures/balances (Opendatasoft export, `;`, lower
  case) and the same field names in public code reading the 2016-2025 datasets: `exer ident
  ndept lbudg insee cbudg ctype cstyp nomen siren cregi cacti secteur finess codbud1 categ bal
  compte bedeb becre obnetdeb obnetcre onbdeb onbcre oobdeb oobcre sd sc`.
- 2010-2015: the budget type is `budget` (`BP` for a budget principal), not `cbudg`: public
  code filters those years with `refine=budget:BP` and later ones with `refine=cbudg:1`. The
  other values of `budget` are not confirmed: any other value is read as an annexe.
- `categ` appears only from 2017 (a harvester's note): it may be missing.
- `insee` is sometimes published as a number (« 038 » read as 38): codes are padded back to
  three digits, as `ndept`.
Names are matched without regard to case (the DGFiP's own files write them in capitals).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from budget_core.errors import FormatError
from budget_core.fsutil import reading
from budget_core.linetable import AMOUNT_TYPE

TEXT = ("ident", "siren", "ndept", "insee", "lbudg", "cbudg", "ctype", "cstyp", "categ",
        "nomen", "compte")
AMOUNTS = ("bedeb", "becre", "obnetdeb", "obnetcre", "onbdeb", "onbcre", "oobdeb", "oobcre",
           "sd", "sc")
# The columns read, in the order of the stored rows (ROW_SCHEMA adds year and `balanced`).
USED = ("exer", *TEXT, *AMOUNTS)
OPTIONAL = {"categ"}
# Published columns not used here (regional code, activity, FINESS...): read past, not refused.
IGNORED = {"cregi", "cacti", "secteur", "finess", "codbud1", "bal"}
ALIASES = {"budget": "cbudg"}  # 2010-2015 name → current name
ROW_SCHEMA = pa.schema([("year", pa.int16()), *((name, pa.string()) for name in TEXT),
                        *((name, AMOUNT_TYPE) for name in AMOUNTS), ("balanced", pa.bool_())])
BLOCK = 1 << 20  # bytes of CSV per batch: memory stays flat whatever the file's size
MAX_HEADER = 1 << 20


def canonical(column: str) -> str:
    """The current name of a published column (`BUDGET` → `cbudg`)."""
    key = column.strip().lower()
    return ALIASES.get(key, key)


def header_mapping(path: Path, name: str) -> dict[str, str]:
    """Source column → canonical name, or a FormatError naming the unknown/missing columns."""
    with reading(name), path.open("rb") as handle:
        first = handle.readline(MAX_HEADER)
    text = first.decode("utf-8-sig", errors="replace").strip("\r\n")
    columns = next(csv.reader(io.StringIO(text), delimiter=";"), [])
    mapping: dict[str, str] = {}
    unknown = []
    for column in columns:
        name = canonical(column)
        if name in USED:
            mapping[column] = name
        elif name not in IGNORED:
            unknown.append(column)
    missing = [c for c in USED if c not in mapping.values() and c not in OPTIONAL]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"colonnes inconnues : {', '.join(unknown)}")
        if missing:
            parts.append(f"colonnes manquantes : {', '.join(missing)}")
        raise FormatError(f"en-tête de balance comptable non reconnu ({' ; '.join(parts)}).",
                          source=name, where="ligne 1",
                          hint="Téléchargez l'export CSV (séparateur « ; ») d'un jeu « balances "
                               "comptables » de data.economie.gouv.fr, ou signalez ce nouvel "
                               "en-tête pour qu'il soit ajouté.")
    return mapping


def batches(path: Path, name: str) -> Iterator[pa.RecordBatch]:
    """The file's rows as ROW_SCHEMA batches, streamed (`BLOCK` bytes of CSV at a time)."""
    mapping = header_mapping(path, name)
    types = {source: (AMOUNT_TYPE if target in AMOUNTS else pa.string())
             for source, target in mapping.items()}
    try:
        with reading(name):
            reader = pacsv.open_csv(
                path, read_options=pacsv.ReadOptions(block_size=BLOCK),
                parse_options=pacsv.ParseOptions(delimiter=";"),
                convert_options=pacsv.ConvertOptions(column_types=types,
                                                     include_columns=list(mapping)))
            for batch in reader:
                yield _normalise(batch, mapping)
    except (pa.ArrowInvalid, ValueError) as exc:
        raise FormatError(f"balance comptable illisible ({exc}).", source=name,
                          hint="Les montants doivent s'écrire avec un point et deux décimales "
                               "au plus (export Opendatasoft) ; vérifiez que le fichier est "
                               "complet.") from exc


def _normalise(batch: pa.RecordBatch, mapping: dict[str, str]) -> pa.RecordBatch:
    columns = {mapping[name]: batch.column(name) for name in batch.schema.names}
    rows = batch.num_rows
    out: dict[str, pa.Array] = {}
    exer = pc.utf8_slice_codeunits(columns["exer"], 0, 4)
    out["year"] = pc.cast(exer, pa.int16())
    for name in TEXT:
        column = columns.get(name)
        if column is None:
            out[name] = pa.nulls(rows, pa.string())
            continue
        column = pc.utf8_trim_whitespace(column)
        if name in ("ndept", "insee"):
            column = pc.utf8_lpad(column, width=3, padding="0")
        if name == "cbudg":  # 2010-2015: « BP » is the budget principal, written 1 since
            column = pc.if_else(pc.equal(column, "BP"), "1", column)
        out[name] = column
    for name in AMOUNTS:  # an empty amount is a zero: the DGFiP writes 0.0 for none
        out[name] = pc.fill_null(columns[name], pa.scalar(0, AMOUNT_TYPE))
    out["balanced"] = identity_holds(out)
    return pa.RecordBatch.from_arrays([out[f.name] for f in ROW_SCHEMA], schema=ROW_SCHEMA)


def identity_holds(row: dict[str, pa.Array]) -> pa.Array:
    """sd − sc = bedeb − becre + obnetdeb − obnetcre + onbdeb − onbcre, exactly, per row."""
    def net(debit: str, credit: str) -> pa.Array:
        return pc.subtract(row[debit], row[credit])

    movements = pc.add(pc.add(net("bedeb", "becre"), net("obnetdeb", "obnetcre")),
                       net("onbdeb", "onbcre"))
    return pc.equal(net("sd", "sc"), movements)
