"""An independent reading of TOTEM files with plain lxml + XPath, to check the library against.

Deliberately naive (whole tree in memory, no mapping): it is what the document itself says.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
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


# Chapters of the fonctionnement section (M14 and M57 instructions): the results carried over
# (002), the unforeseen (022), the transfers to investment (023) and order operations (042,
# 043), and the chapters of charges and produits 011-016 and 6x/7x. Every other chapter is
# investment.
OPERATING_CHAPTERS = ("002", "022", "023", "042", "043")


def operating(chapter: str) -> bool:
    """Is a chapter (ContNat) of the fonctionnement section? From its code alone."""
    return chapter in OPERATING_CHAPTERS or chapter[:2] == "01" or chapter[:1] in ("6", "7")


def real_sums_without_carryover(path: Path, amount: str) -> dict[tuple[str, str], Decimal]:
    """Sum of one amount over the real operations (OpBudg 0), without the results carried
    over (natures 001 and 002), by (section F/I, CodRD). The section comes from the vote
    chapter (ContNat) or, without one, from the nature's class (6, 7: fonctionnement)."""
    out: dict[tuple[str, str], Decimal] = {}
    for line in budget_lines(path):
        nature = value(line, "Nature") or ""
        if value(line, "OpBudg") != "0" or nature in ("001", "002"):
            continue
        chapter = value(line, "ContNat")
        in_operating = operating(chapter) if chapter else nature[:1] in ("6", "7")
        key = ("F" if in_operating else "I", value(line, "CodRD") or "")
        out[key] = out.get(key, Decimal(0)) + Decimal(value(line, amount) or "0")
    return out


def informations(path: Path) -> dict[str, str]:
    """`InformationsGenerales` of a document: population, R.2313-1 ratios... (text as given)."""
    tree = etree.parse(str(path))
    return {str(info.get("Code")): str(info.get("V"))
            for info in tree.iterfind(".//d:InformationsGenerales/d:Information", NS)}


def french_number(text: str) -> Decimal:
    """`1 825,37`, `53,42%`, `52,56 %` → Decimal (thousands spaces, decimal comma, %)."""
    return Decimal(text.replace("%", "").replace(" ", "").replace("\u00a0", "")
                   .replace(",", "."))


PLANS = Path(__file__).parent / "fixtures" / "plans" / "dgfip"
# A plan's account columns: the real chapter (DR/RR), then the order chapters between sections
# (DOES/ROES, TypOpBudg 2) and within a section (DOIS/ROIS, TypOpBudg 1).
PLAN_COLUMNS = ("DR", "RR", "DOES", "ROES", "DOIS", "ROIS")


@functools.cache
def plan_of(nomenclature: str, year: int) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """The DGFiP plan de comptes a document names (`M14-M14_COM_500_3500`, its year), read
    as written: account → its chapters (PLAN_COLUMNS), chapter → its label."""
    norme, declinaison = nomenclature.split("-", 1)
    tree = etree.parse(str(PLANS / str(year) / norme / declinaison / "planDeCompte.xml"))
    accounts = {str(c.get("Code")): tuple(str(c.get(k) or "") for k in PLAN_COLUMNS)
                for c in tree.iter("Compte")}
    return accounts, {str(c.get("Code")): str(c.get("Libelle")) for c in tree.iter("Chapitre")}


def header(path: Path) -> tuple[str, int, str]:
    """The nomenclature, year and stage code (`NatDec`: 01 BP, 02 DM, 09 CA, 10 CFU)."""
    tree = etree.parse(str(path))
    nomenclature, year, stage = (str(tree.find(f".//d:{name}", NS).get("V"))
                                 for name in ("Nomenclature", "Exer", "NatDec"))
    return nomenclature, int(year), stage


def chaptered_lines(path: Path, *, include_order: bool = False, amount: str | None = None
                    ) -> Iterator[tuple[str, str, str, Decimal]]:
    """(direction `recette`/`depense`, chapter, nature, `amount`) of each budget line of the
    document's real operations (and its order operations with `include_order`), without the
    results carried over (natures 001, 002); `amount` is by default the stage's: MtReal for
    a CA or CFU, MtPrev otherwise.

    The chapter is the vote chapter (`ContNat`) when it is a chapter of the plan; else the
    plan's chapter of the account voted (`ContNat` holding a nature, as Montreuil votes its
    investment) or of the nature, through its nearest parent account the plan lists."""
    nomenclature, year, stage = header(path)
    accounts, chapters = plan_of(nomenclature, year)
    amount = amount or ("MtReal" if stage in ("09", "10") else "MtPrev")
    kinds = ("0", "1") if include_order else ("0",)
    for line in budget_lines(path):
        nature, kind, side = value(line, "Nature") or "", value(line, "OpBudg"), \
            value(line, "CodRD")
        if kind not in kinds or nature in ("001", "002"):
            continue
        chapter = value(line, "ContNat") or ""
        if chapter not in chapters:
            code = chapter or nature
            while code and code not in accounts:
                code = code[:-1]
            column = (0 if kind == "0" else 2 if value(line, "TypOpBudg") == "2" else 4) + (
                side == "R")
            chapter = accounts[code][column]
        yield ("depense" if side == "D" else "recette", chapter, nature,
               Decimal(value(line, amount) or "0"))


def chapter_sums(path: Path, *, include_order: bool = False, amount: str | None = None
                 ) -> dict[tuple[str, str], Decimal]:
    """(direction, chapter) → the sum of `chaptered_lines`."""
    out: dict[tuple[str, str], Decimal] = {}
    for direction, chapter, _, figure in chaptered_lines(path, include_order=include_order,
                                                         amount=amount):
        out[direction, chapter] = out.get((direction, chapter), Decimal(0)) + figure
    return out


def nature_sums(path: Path, direction: str, chapter: str) -> dict[str, Decimal]:
    """Nature → the sum of `chaptered_lines` of one direction and chapter (real operations):
    a chapter's drill-down."""
    out: dict[str, Decimal] = {}
    for side, code, nature, figure in chaptered_lines(path):
        if (side, code) == (direction, chapter):
            out[nature] = out.get(nature, Decimal(0)) + figure
    return out
