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
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from budget_core.errors import FormatError
from budget_core.fsutil import reading
from budget_core.linetable import AMOUNT_TYPE
from budget_core.numbers import (
    FIRST_YEAR,
    MAX_INTEGER_DIGITS,
    last_plausible_year,
    parse_amount,
    year_error,
)

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
# An amount as the DGFiP writes it (ASCII digits, a point, cents at most: numbers.parse_amount's
# grammar), checked before the cast: pyarrow alone reads `2.7e5`, and `NaN`, `NULL`, `N/A` as
# nothing, that is zero.
AMOUNT_RE = r"^[+-]?(?:[0-9]{1,DIGITS}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})$".replace(
    "DIGITS", str(MAX_INTEGER_DIGITS))
# `exer`: four digits, or a date of that year (a multi-year dataset may export it as a date).
YEAR_RE = r"^[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2}(?:[T ][0-9:.+Z-]*)?)?)?$"


def canonical(column: str) -> str:
    """The current name of a published column (`BUDGET` → `cbudg`)."""
    key = column.strip().lower()
    return ALIASES.get(key, key)


HEADER_HINT = ("Téléchargez l'export CSV (séparateur « ; ») d'un jeu « balances comptables » "
               "de data.economie.gouv.fr, ou signalez ce nouvel en-tête pour qu'il soit ajouté.")


def header_mapping(path: Path, name: str) -> dict[str, str]:
    """Source column → canonical name, or a FormatError naming the unknown/missing columns."""
    with reading(name), path.open("rb") as handle:
        first = handle.readline(MAX_HEADER)
    if b"\0" in first:  # UTF-16 (a spreadsheet's « Unicode text ») or a binary file
        raise FormatError("octets NUL dans l'en-tête : le fichier est en UTF-16 ou n'est pas "
                          "un CSV texte.", source=name, where="ligne 1",
                          hint="Enregistrez le fichier en CSV UTF-8, séparateur « ; ».")
    text = first.decode("utf-8-sig", errors="replace").strip("\r\n")
    try:
        columns = next(csv.reader(io.StringIO(text), delimiter=";"), [])
    except csv.Error as exc:  # a GeoJSON or a minified JSON: one line, one huge « column »
        raise FormatError("en-tête illisible : ce n'est pas un CSV (un champ de plus de "
                          f"{csv.field_size_limit()} caractères sans séparateur « ; », ou un "
                          "retour chariot isolé).", source=name, where="ligne 1",
                          hint=HEADER_HINT) from exc
    mapping: dict[str, str] = {}
    unknown, seen, twice = [], set(), []
    for column in columns:
        known = canonical(column)
        if known in seen:  # read silently, one of the two would be used, unsaid
            twice.append(column)
        seen.add(known)
        if known in USED:
            mapping[column] = known
        elif known not in IGNORED:
            unknown.append(column)
    missing = [c for c in USED if c not in mapping.values() and c not in OPTIONAL]
    if unknown or missing or twice:
        parts = []
        if twice:
            parts.append(f"colonnes écrites deux fois : {_listed(list(dict.fromkeys(twice)))}")
        if unknown:
            parts.append(f"colonnes inconnues : {_listed(unknown)}")
        if missing:
            parts.append(f"colonnes manquantes : {', '.join(missing)}")
        raise FormatError(f"en-tête de balance comptable non reconnu ({' ; '.join(parts)}).",
                          source=name, where="ligne 1",
                          hint=HEADER_HINT)
    return mapping


def _listed(columns: list[str]) -> str:
    """Ten names of 60 characters at most: a header of 1 MB (no line break) is not listed
    whole."""
    shown = ", ".join(column[:60] if column.strip() else "« » (sans nom : un « ; » en fin de "
                      "ligne ?)" for column in columns[:10])
    return shown + (f" et {len(columns) - 10} autre(s)" if len(columns) > 10 else "")


def batches(path: Path, name: str) -> Iterator[pa.RecordBatch]:
    """The file's rows as ROW_SCHEMA batches, streamed (`BLOCK` bytes of CSV at a time)."""
    mapping = header_mapping(path, name)
    # Every column is read as text (amounts are checked, then cast, in _normalise); no value
    # is read as null (pyarrow's default would take `NaN`, `NULL`, `N/A` for an empty cell).
    types = {source: pa.string() for source in mapping}
    line = 2  # the file's line of the batch's first row (no quoted line break in a balance)
    try:
        with reading(name):
            reader = pacsv.open_csv(
                path, read_options=pacsv.ReadOptions(block_size=BLOCK),
                parse_options=pacsv.ParseOptions(delimiter=";"),
                convert_options=pacsv.ConvertOptions(column_types=types,
                                                     include_columns=list(mapping),
                                                     strings_can_be_null=False))
            for batch in reader:
                yield _normalise(batch, mapping, name, line)
                line += batch.num_rows
    except (pa.ArrowInvalid, ValueError) as exc:
        if "UTF8" in str(exc):
            raise FormatError("le fichier n'est pas en UTF-8 (un octet invalide, Latin-1 ou "
                              "Windows-1252 ?).", source=name,
                              hint="Réenregistrez le fichier en UTF-8, ou téléchargez de "
                                   "nouveau l'export du portail.") from exc
        raise FormatError(f"balance comptable illisible : {_why(str(exc))}.", source=name,
                          hint="Vérifiez que le fichier est complet et séparé par « ; », ou "
                               "téléchargez de nouveau l'export du portail.") from exc


def _why(arrow: str) -> str:
    """pyarrow's reason, in French where it is one we know (amounts are checked apart)."""
    if "straddl" in arrow:  # a row longer than a block: a cell without end
        return (f"une ligne dépasse {BLOCK // (1 << 20)} Mo (un guillemet jamais fermé, "
                "une cellule sans fin ?)")
    if found := re.search(r"Expected (\d+) columns, got (\d+): (.{0,80})", arrow):
        return (f"une ligne a {found[2]} colonnes au lieu des {found[1]} de l'en-tête "
                f"(« {found[3]} »)")
    return arrow[:300]


def _first_bad(column: pa.Array, ok: pa.Array, name: str, source: str, line: int,
               ) -> tuple[str, str] | None:
    """The first value of `column` where `ok` is false, and where it is, or None."""
    if pc.all(ok).as_py():
        return None
    index = pc.index(ok, False).as_py()
    return str(column[index].as_py()), f"ligne {line + index}, colonne {name}"


def _normalise(batch: pa.RecordBatch, mapping: dict[str, str], source: str = "",
               line: int = 2) -> pa.RecordBatch:
    """One batch of text cells → ROW_SCHEMA, or a FormatError at the first bad cell."""
    columns = {mapping[name]: batch.column(name) for name in batch.schema.names}
    rows = batch.num_rows
    out: dict[str, pa.Array] = {}
    for name, column in columns.items():
        if bad := _first_bad(column, pc.invert(pc.match_substring(column, "\0")), name,
                             source, line):
            raise FormatError("caractère NUL dans une cellule : ce n'est pas un CSV texte.",
                              source=source, where=bad[1],
                              hint="Téléchargez de nouveau l'export du portail.")
    exer = pc.utf8_trim_whitespace(columns["exer"])
    ok = pc.match_substring_regex(exer, YEAR_RE)
    year = pc.cast(pc.if_else(ok, pc.utf8_slice_codeunits(exer, 0, 4), "0"), pa.int16())
    ok = pc.and_(ok, pc.and_(pc.greater_equal(year, FIRST_YEAR),
                             pc.less_equal(year, last_plausible_year())))
    if bad := _first_bad(exer, ok, "exer", source, line):
        raise year_error(bad[0], source=source, where=bad[1])
    out["year"] = year
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
        text = pc.utf8_trim_whitespace(columns[name])
        text = pc.if_else(pc.equal(text, ""), "0", text)
        if bad := _first_bad(text, pc.match_substring_regex(text, AMOUNT_RE), name, source,
                             line):
            parse_amount(bad[0], source=source, where=bad[1], scdl=False)  # says why
            raise FormatError(f"montant « {bad[0]} » refusé.", source=source, where=bad[1],
                              hint="Écrivez les montants en chiffres (0-9), avec un point "
                                   "avant les centimes.")
        out[name] = pc.cast(text, AMOUNT_TYPE)
    out["balanced"] = identity_holds(out)
    return pa.RecordBatch.from_arrays([out[f.name] for f in ROW_SCHEMA], schema=ROW_SCHEMA)


def identity_holds(row: dict[str, pa.Array]) -> pa.Array:
    """sd − sc = bedeb − becre + obnetdeb − obnetcre + onbdeb − onbcre, exactly, per row."""
    def net(debit: str, credit: str) -> pa.Array:
        return pc.subtract(row[debit], row[credit])

    movements = pc.add(pc.add(net("bedeb", "becre"), net("obnetdeb", "obnetcre")),
                       net("onbdeb", "onbcre"))
    return pc.equal(net("sd", "sc"), movements)
