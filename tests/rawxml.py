"""An independent reading of TOTEM files with plain lxml + XPath, to check the library against.

Deliberately naive (whole tree in memory, no mapping): it is what the document itself says.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path

import pandas as pd
from lxml import etree

NS = {"d": "http://www.minefi.gouv.fr/cp/demat/docbudgetaire"}


def budget_lines(path: Path) -> list[etree._Element]:
    """The LigneBudget elements that are budget lines (not calculated totals)."""
    tree = etree.parse(str(path))
    return tree.xpath("//d:LigneBudget[not(@calculated='true')]", namespaces=NS)


def value(line: etree._Element, name: str) -> str | None:
    found = line.find(f"d:{name}", NS)
    return None if found is None else found.get("V")


# The amounts of a LigneBudget, as the TOTEM schema names them.
AMOUNTS = ("MtBudgPrec", "MtRARPrec", "MtPropNouv", "MtPrev", "CredOuv", "MtReal", "MtRAR3112")


@functools.cache
def _sums_by_direction_and_order(path: Path) -> dict[str, dict[tuple[str, str], Decimal]]:
    """Every amount summed in one reading of the document (large files are read once)."""
    out: dict[str, dict[tuple[str, str], Decimal]] = {amount: {} for amount in AMOUNTS}
    for line in budget_lines(path):
        key = (value(line, "CodRD") or "", value(line, "OpBudg") or "0")
        for amount, sums in out.items():
            sums[key] = sums.get(key, Decimal(0)) + Decimal(value(line, amount) or "0")
    return out


def sums_by_direction_and_order(path: Path, amount: str) -> dict[tuple[str, str], Decimal]:
    """Sum of one amount by (CodRD, OpBudg) as the document states it."""
    return dict(_sums_by_direction_and_order(path)[amount])


def section(line: etree._Element) -> str | None:
    """The section (F/I) the document states on a line, in `CaracSup Code="Section"`."""
    found = line.xpath("d:CaracSup[@Code='Section']/@V", namespaces=NS)
    return str(found[0]) if found else None


def sums_by_section_and_direction(path: Path, amount: str) -> dict[tuple[str, str], Decimal]:
    """Sum of one amount by (section F/I, CodRD) as the document states it."""
    out: dict[tuple[str, str], Decimal] = {}
    for line in budget_lines(path):
        key = (section(line) or "", value(line, "CodRD") or "")
        out[key] = out.get(key, Decimal(0)) + Decimal(value(line, amount) or "0")
    return out


def canonical_sums_by_direction_and_order(lines: pd.DataFrame,
                                          column: str) -> dict[tuple[str, str], Decimal]:
    """The library's lines summed with the keys of `sums_by_direction_and_order` (CodRD,
    OpBudg 0 real / 1 order), so the two compare as dicts."""
    keys = zip(lines["direction"].map({"depense": "D", "recette": "R"}),
               lines["operation_kind"].map({"reel": "0", "ordre": "1"}), strict=True)
    out: dict[tuple[str, str], Decimal] = {}
    for key, amount in zip(keys, lines[column], strict=True):
        out[key] = out.get(key, Decimal(0)) + (Decimal(0) if pd.isna(amount) else amount)
    return out
