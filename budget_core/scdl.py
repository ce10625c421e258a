"""SCDL « budget » CSV (OpenDataFrance schema `scdl/budget`): read every real variant.

Real files come with `,` or `;`, UTF-8 with or without BOM or Latin-1, decimal point or comma,
codes ("CA", "D", "1") or labels ("Compte administratif", "dépense", "ordre"). Reading maps each
row through the same `LineBuilder` as TOTEM, so both give the same canonical lines.

SCDL carries no nomenclature: chapters come from `BGT_CONTNAT` when filled, else from the plan
de comptes the caller names, else from the plan most collectivities of that type used that year
(said in the document's warnings).

Writing SCDL 0.8.3 is `scdlwrite`; `csv_safe_bytes` here writes any frame for a download.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

import pandas as pd

from budget_core.csvfile import MAX_HEADER_BYTES, check_line_breaks, csv_table, decode_csv
from budget_core.errors import FormatError
from budget_core.fsutil import read_file
from budget_core.linetable import LineBuilder
from budget_core.mapping import RawLine
from budget_core.model import (
    STAGE_BY_NATDEC,
    STAGE_LABELS,
    BudgetDocument,
    DocumentInfo,
    entity_type_of,
)
from budget_core.nomenclature import best_plan, plan_for, split_nomenclature
from budget_core.numbers import is_siret, parse_amount, plausible_year, year_error
from budget_core.scdlwrite import AMOUNT_COLUMNS, FIELDS, SCHEMA_VERSION, neutralise

# One upload must not cost unbounded work: each document costs ~4 ms and ~100 kB however
# small (a 25 000-SIRET file took 2.6 GB); real files hold one document, a whole collectivity's
# history a few hundred.
MAX_DOCUMENTS = 1_000
SCHEMA_RESOURCE = "scdl_budget_schema_0.8.3.json"

REQUIRED = ("BGT_NATDEC", "BGT_ANNEE", "BGT_SIRET", "BGT_NATURE", "BGT_CODRD")
def _key(text: str) -> str:
    """Lower-case, accents removed: `Dépense` and `depense` read the same."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


STAGE_BY_TEXT = {
    **{_key(code): code for code in STAGE_LABELS},
    **{_key(label): code for code, label in STAGE_LABELS.items()},
    **STAGE_BY_NATDEC,
    **{str(int(code)): stage for code, stage in STAGE_BY_NATDEC.items()},
}
DIRECTION_BY_TEXT = {"d": "D", "depense": "D", "depenses": "D", "r": "R", "recette": "R",
                     "recettes": "R"}
ORDER_BY_TEXT = {"0": False, "reel": False, "reelle": False, "1": True, "ordre": True}
ARTSPE_BY_TEXT = {"specialise": True, "true": True, "1": True, "non specialise": False,
                  "false": False, "0": False}
SECTION_BY_TEXT: dict[str, str] = {"f": "F", "fonctionnement": "F", "i": "I", "investissement": "I"}


def schema_descriptor() -> str:
    """Path of the shipped official Table Schema (for frictionless)."""
    return str(resources.files("budget_core.data").joinpath(SCHEMA_RESOURCE))


def _lookup(table: Mapping[str, object], value: str, column: str, name: str, row: int) -> object:
    try:
        return table[_key(value)]
    except KeyError:
        raise FormatError(f"valeur « {value} » inconnue dans {column}.", source=name,
                          where=f"ligne {row}",
                          hint=f"Valeurs admises : {', '.join(sorted(set(map(str, table))))}."
                          ) from None


def read_scdl(path: Path, *, nomenclature: str | None = None,
              name: str | None = None) -> list[BudgetDocument]:
    """Parse an SCDL budget CSV: one document per (SIRET, year, stage) it holds."""
    name = name or path.name
    return parse_scdl_bytes(read_file(path, name), name=name, nomenclature=nomenclature)


def scdl_header(header: list[str], name: str) -> tuple[list[str], list[str]]:
    """The column names as the schema spells them, and what was corrected in them.

    Names are read whatever their case and surrounding spaces (said in the notes); a name
    written twice is refused, since one of its columns would silently win.
    """
    columns = [c.strip().upper() for c in header]
    seen: dict[str, int] = {}
    for position, column in enumerate(columns, start=1):
        if column and column in seen:
            raise FormatError(f"colonne {column} en double dans l'en-tête (colonnes "
                              f"{seen[column]} et {position}) : laquelle croire ?",
                              source=name, where="ligne 1 (en-tête)",
                              hint="Gardez une seule colonne de ce nom.")
        seen[column] = position
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        raise FormatError(f"colonnes obligatoires absentes : {', '.join(missing)}.",
                          source=name, where="ligne 1 (en-tête)",
                          hint="Le fichier doit suivre le schéma SCDL budget "
                               f"{SCHEMA_VERSION} (colonnes BGT_…).")
    renamed = [f"« {raw} »" for raw, column in zip(header, columns, strict=True)
               if column in FIELDS and raw != column]
    notes = [f"En-tête non conforme au schéma SCDL (les noms s'écrivent en majuscules, sans "
             f"espace) : {', '.join(renamed)} lu(s) quand même."] if renamed else []
    return columns, notes


def scdl_rows(data: bytes, name: str) -> tuple[list[str], list[str],
                                                Iterator[tuple[int, dict[str, str]]]]:
    """Columns, notes on the header, and each row as {column: stripped cell}, read lazily."""
    check_line_breaks(data[:MAX_HEADER_BYTES], len(data), name)
    header, rows = csv_table(decode_csv(data, name), name)
    columns, notes = scdl_header(header, name)
    return columns, notes, ((number, {c: v.strip() for c, v in zip(columns, row, strict=True)})
                            for number, row in rows)


def parse_scdl_bytes(data: bytes, *, name: str,
                     nomenclature: str | None = None) -> list[BudgetDocument]:
    columns, notes, rows = scdl_rows(data, name)
    # Rows wait for their document as tuples of shared strings: codes, names and labels repeat
    # on every row (a dict of fresh strings per row took 2.4 kB a row, 800 MB for 50 MB).
    shared: dict[str, str] = {}
    groups: dict[tuple[str, int, str], list[tuple[int, tuple[str, ...]]]] = {}
    for row_number, values in rows:
        key = _document_key(values, name, row_number)
        if key not in groups and len(groups) == MAX_DOCUMENTS:
            raise FormatError(f"plus de {MAX_DOCUMENTS} documents (SIRET × exercice × étape) "
                              "dans un seul fichier : lecture arrêtée.", source=name,
                              where=f"ligne {row_number}",
                              hint="Découpez le fichier par collectivité ou par exercice.")
        groups.setdefault(key, []).append(
            (row_number, tuple(shared.setdefault(v, v) for v in values.values())))
    if not groups:
        raise FormatError("aucune ligne de données sous l'en-tête.", source=name,
                          hint="Le fichier ne contient que l'en-tête.")
    del shared
    sha256 = hashlib.sha256(data).hexdigest()
    # each document's rows are freed as soon as it is built
    return [_document(key, columns, groups.pop(key), name, sha256, nomenclature, notes)
            for key in list(groups)]


def _document_key(values: dict[str, str], name: str, row: int) -> tuple[str, int, str]:
    siret = values["BGT_SIRET"].replace(" ", "")
    if not is_siret(siret):
        raise FormatError(f"SIRET « {values['BGT_SIRET']} » invalide : 14 chiffres (0-9) "
                          "attendus.", source=name, where=f"ligne {row}, colonne BGT_SIRET",
                          hint="Corrigez le SIRET du budget (répertoire SIRENE).")
    year = plausible_year(values["BGT_ANNEE"])
    if year is None:
        raise year_error(values["BGT_ANNEE"], source=name,
                         where=f"ligne {row}, colonne BGT_ANNEE")
    stage = str(_lookup(STAGE_BY_TEXT, values["BGT_NATDEC"], "BGT_NATDEC", name, row))
    return siret, year, stage


def _document(key: tuple[str, int, str], columns: list[str],
              rows: list[tuple[int, tuple[str, ...]]], name: str, sha256: str,
              nomenclature: str | None, notes: list[str]) -> BudgetDocument:
    siret, year, stage = key
    if nomenclature:
        plan = plan_for(nomenclature, year, source=name)
        norme, declinaison = split_nomenclature(nomenclature)
    else:
        nature = columns.index("BGT_NATURE")
        plan = best_plan({cells[nature] for _, cells in rows}, year)
        norme, declinaison = plan.norme, plan.declinaison
    entity = dict(zip(columns, rows[0][1], strict=True)).get("BGT_NOM", "")
    info = DocumentInfo(
        siret=siret, entity_name=entity, entity_type=entity_type_of(siret),
        budget_kind="principal", budget_label=entity, year=year, stage=stage,
        nomenclature=norme, declinaison=declinaison, plan_year=plan.year, source_file=name,
        source_sha256=sha256, source_format="scdl",
    )
    builder = LineBuilder(info, plan)
    builder.notes += notes
    if not nomenclature:
        builder.notes.append(
            f"Nomenclature absente du format SCDL : plan {declinaison} {plan.year} retenu (celui "
            "qui connaît le plus de natures du fichier) pour les chapitres non renseignés.")
    for row_number, cells in rows:
        values = dict(zip(columns, cells, strict=True))
        raw = RawLine(
            nature=values["BGT_NATURE"],
            direction=str(_lookup(DIRECTION_BY_TEXT, values["BGT_CODRD"], "BGT_CODRD",
                                  name, row_number)),
            order=bool(_lookup(ORDER_BY_TEXT, values.get("BGT_OPBUDG") or "0",
                               "BGT_OPBUDG", name, row_number)),
            contnat=values.get("BGT_CONTNAT", ""),
            fonction=values.get("BGT_FONCTION", ""),
            operation=values.get("BGT_OPERATION", ""),
            specialised=ARTSPE_BY_TEXT.get(_key(values.get("BGT_ARTSPE", ""))),
            section_hint=SECTION_BY_TEXT.get(_key(values.get("BGT_SECTION", "")), ""),
            label_hint=values.get("BGT_NATURE_LABEL", ""),
        )
        amounts = {column: parse_amount(values.get(field, ""), source=name, scdl=True,
                                        where=f"ligne {row_number}, colonne {field}")
                   for field, column in AMOUNT_COLUMNS.items()}
        builder.add(raw, amounts, row_number)
    return BudgetDocument(info, builder.frame(), warnings=builder.warnings(),
                          duplicate_lines=builder.duplicates())


def _text(value: object) -> str:
    return "" if value is None or value is pd.NA else str(value)


def csv_safe_bytes(frame: pd.DataFrame) -> bytes:
    """Any frame as CSV for download: UTF-8 with BOM (for spreadsheets), formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow([neutralise(_text(value)) for value in row])
    return buffer.getvalue().encode("utf-8-sig")
