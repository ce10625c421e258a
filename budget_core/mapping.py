"""From a raw budget line (nature, direction, real/order, vote chapter) to a canonical line.

Shared by the TOTEM and SCDL readers, so a line means the same whatever file it came from:
the chapter is the document's vote chapter (ContNat) when given, else the plan's chapter for
the nature, the direction and the kind of operation.
"""

from __future__ import annotations

from array import array
from decimal import Decimal
from typing import NamedTuple

from budget_core.model import (
    CARRYOVER_NATURES,
    DIRECTIONS,
    SECTIONS,
    DocumentInfo,
    main_amount_column,
)
from budget_core.nomenclature import Chapter, Plan

# Section of a nature by its class when no chapter tells it: classes 1-5 are balance-sheet
# (investissement) accounts, 6-7 are charges and produits (fonctionnement).
CLASS_SECTION = {"0": "", "1": "I", "2": "I", "3": "I", "4": "I", "5": "I", "6": "F", "7": "F"}
# Special chapters of class 0 (carry-overs, transfers between sections, cessions).
ZERO_CHAPTER_SECTION = {"001": "I", "002": "F", "021": "I", "023": "F", "024": "I"}


class RawLine(NamedTuple):
    """A line as a document states it, before any mapping. A named tuple, not a frozen
    dataclass: one is built and hashed per line, and a tuple builds and hashes in C."""

    nature: str
    direction: str  # "D" or "R"
    order: bool
    order_kind: str | None = None  # TypOpBudg
    contnat: str = ""
    fonction: str = ""
    operation: str = ""
    specialised: bool | None = None  # None when the document does not say
    section_hint: str = ""  # CaracSup Section F/I, or the SCDL section
    label_hint: str = ""  # the document's own label of the nature


# Copies are counted in a set below this many lines (real documents hold a few thousand: no
# need to load numpy, 0.2 s), with numpy above (a set of a million hashes takes 60 MB).
NUMPY_FROM = 100_000
# Columns that are the same on every line of a document: filled once per batch.
CONSTANT_COLUMNS = ("siret", "siren", "entity_name", "entity_type", "insee", "budget_kind",
                    "budget_label", "year", "stage", "nomenclature", "declinaison", "plan_year",
                    "source_file", "source_sha256")
# Columns that depend only on how a line is classified (cached per classification).
MAPPED_COLUMNS = ("section", "direction", "operation_kind", "carryover", "chapter_code",
                  "chapter_label", "chapter_source", "vote_chapter", "nature_code",
                  "nature_label", "nature_known", "fonction_code", "fonction_label",
                  "operation_code", "specialised")


class Line(NamedTuple):
    """A mapped line: its classification (MAPPED_COLUMNS, shared by every line classified
    alike), its amounts by canonical column, and where it is in the file."""

    mapped: tuple[object, ...]
    amounts: dict[str, Decimal | None]
    source_line: int


class LineMapper:
    """Maps raw lines to canonical ones, one line at a time, in bounded memory.

    A line's mapping depends only on its codes: it is computed once per distinct
    classification. Readers hand each line over as they read it; what is done with the
    mapped lines (an Arrow frame for the app, SCDL rows for `convert`, sums for `inspect`)
    is up to the caller, so every path shares this one mapping.
    """

    def __init__(self, info: DocumentInfo, plan: Plan) -> None:
        self.info = info
        self.plan = plan
        self.amount_column = main_amount_column(info.stage)
        self.unknown_natures: set[str] = set()
        self.notes: list[str] = []
        self._mapped: dict[RawLine, tuple[object, ...]] = {}
        # 8 bytes a line: the hash of each line that carries money, to count exact copies
        self._hashes = array("q")
        # the columns every line of the document shares (the SHA-256 aside: known at the end)
        self.constants: dict[str, object] = {
            "siret": info.siret, "siren": info.siren, "entity_name": info.entity_name,
            "entity_type": info.entity_type, "insee": info.insee,
            "budget_kind": info.budget_kind, "budget_label": info.budget_label,
            "year": info.year, "stage": info.stage, "nomenclature": info.nomenclature,
            "declinaison": info.declinaison, "plan_year": plan.year,
            "source_file": info.source_file}

    def map(self, raw: RawLine, amounts: dict[str, Decimal | None], source_line: int) -> Line:
        if any(amounts.values()):  # a copied line of zeros changes no figure
            self._hashes.append(hash((raw, *amounts.values())))
        mapped = self._mapped.get(raw)
        if mapped is None:
            mapped = self._mapped[raw] = self._map(raw)
        return Line(mapped, amounts, source_line)

    def record(self, line: Line) -> dict[str, object]:
        """The line as {canonical column: value}, as a lines frame's record holds it (but
        `source_sha256`, known only once the file is read)."""
        return {**self.constants, **dict(zip(MAPPED_COLUMNS, line.mapped, strict=True)),
                **line.amounts, "amount": line.amounts.get(self.amount_column),
                "source_line": line.source_line}

    def _map(self, raw: RawLine) -> tuple[object, ...]:
        chapter_code, chapter_source, account_label, known = self._chapter(raw)
        chapter = self._plan_chapter(chapter_code)
        if chapter is not None:
            chapter_code = chapter.code
        section = (chapter.section if chapter and chapter.section in SECTIONS else "") or \
            ZERO_CHAPTER_SECTION.get(raw.nature, "") or raw.section_hint or \
            CLASS_SECTION.get(raw.nature[:1], "")
        if not known:
            self.unknown_natures.add(raw.nature)
        return (
            SECTIONS.get(section, ""), DIRECTIONS[raw.direction],
            "ordre" if raw.order else "reel", raw.nature in CARRYOVER_NATURES,
            chapter_code, chapter.label if chapter else "", chapter_source, raw.contnat,
            raw.nature, account_label or raw.label_hint, known, raw.fonction,
            self.plan.fonction_label(raw.fonction) if raw.fonction else "", raw.operation,
            raw.specialised,
        )

    def _chapter(self, raw: RawLine) -> tuple[str, str, str, bool]:
        """(chapter code, where it came from, the plan's label of the nature, nature in plan)."""
        account, exact = self.plan.account(raw.nature)
        label = account.label if account and exact else ""
        if raw.nature in self.plan.chapters and raw.nature[:1] == "0":
            # 001, 002, 021, 023, 024 are chapters and natures at once.
            return raw.nature, "plan", self.plan.chapters[raw.nature].label, True
        if raw.contnat:
            return raw.contnat, "document", label, exact
        if account is None:
            return "", "unknown", "", False
        code = account.chapter(raw.direction, raw.order, raw.order_kind)
        return code, "plan" if exact else "plan_parent", label, exact

    def warnings(self) -> list[str]:
        """What a reader of the figures should know about how they were mapped."""
        found = list(self.notes)
        if self.unknown_natures:
            found.append(f"Natures absentes du plan de comptes {self.info.declinaison} "
                         f"{self.plan.year} (gardées, sans libellé du plan) : "
                         + ", ".join(sorted(self.unknown_natures)))
        copies = self.duplicates()
        if copies:
            found.append(f"{copies} ligne(s) identique(s) à une autre ligne du document, "
                         "montants compris (comptées chacune dans les totaux) : un fichier "
                         "concaténé deux fois ? Vérifiez auprès de l'éditeur.")
        if self.plan.year != self.info.year:
            found.append(f"Plan de comptes {self.plan.year} utilisé pour l'exercice "
                         f"{self.info.year} (année la plus proche disponible).")
        return found

    def duplicates(self) -> int:
        """How many lines carrying money are exact copies of another line (zeros aside)."""
        if len(self._hashes) < NUMPY_FROM:
            return len(self._hashes) - len(set(self._hashes))
        import numpy as np  # sorts 8 bytes a line, where a set takes about 60

        return len(self._hashes) - len(np.unique(np.frombuffer(self._hashes, np.int64)))

    def _plan_chapter(self, code: str) -> Chapter | None:
        """The plan's chapter for a code, or for its longest prefix that is a chapter.

        Vote chapters can be finer than the plan's: `4581001` is chapter 4581 (opérations
        pour compte de tiers) for third-party operation 001.
        """
        while code:
            if code in self.plan.chapters:
                return self.plan.chapters[code]
            code = code[:-1]
        return None
