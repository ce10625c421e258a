"""From a raw budget line (nature, direction, real/order, vote chapter) to a canonical line.

Shared by the TOTEM and SCDL readers, so a line means the same whatever file it came from:
the chapter is the document's vote chapter (ContNat) when given, else the plan's chapter for
the nature, the direction and the kind of operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from budget_core.model import (
    CARRYOVER_NATURES,
    COLUMN_NAMES,
    DIRECTIONS,
    SECTIONS,
    DocumentInfo,
    lines_frame,
    main_amount_column,
)
from budget_core.nomenclature import Chapter, Plan

# Section of a nature by its class when no chapter tells it: classes 1-5 are balance-sheet
# (investissement) accounts, 6-7 are charges and produits (fonctionnement).
CLASS_SECTION = {"0": "", "1": "I", "2": "I", "3": "I", "4": "I", "5": "I", "6": "F", "7": "F"}
# Special chapters of class 0 (carry-overs, transfers between sections, cessions).
ZERO_CHAPTER_SECTION = {"001": "I", "002": "F", "021": "I", "023": "F", "024": "I"}


@dataclass(frozen=True)
class RawLine:
    """A line as a document states it, before any mapping."""

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


class LineBuilder:
    """Collects mapped lines column by column, then builds the canonical frame."""

    def __init__(self, info: DocumentInfo, plan: Plan) -> None:
        self.info = info
        self.plan = plan
        self.amount_column = main_amount_column(info.stage)
        self.columns: dict[str, list[object]] = {name: [] for name in COLUMN_NAMES}
        self.unknown_natures: set[str] = set()
        self.notes: list[str] = []

    def add(self, raw: RawLine, amounts: dict[str, Decimal | None], source_line: int) -> None:
        chapter_code, chapter_source, account_label, known = self._chapter(raw)
        chapter = self._plan_chapter(chapter_code)
        if chapter is not None:
            chapter_code = chapter.code
        section = (chapter.section if chapter and chapter.section in SECTIONS else "") or \
            ZERO_CHAPTER_SECTION.get(raw.nature, "") or raw.section_hint or \
            CLASS_SECTION.get(raw.nature[:1], "")
        if not known:
            self.unknown_natures.add(raw.nature)
        info = self.info
        row: dict[str, object] = {
            "siret": info.siret, "siren": info.siren, "entity_name": info.entity_name,
            "entity_type": info.entity_type, "insee": info.insee,
            "budget_kind": info.budget_kind, "budget_label": info.budget_label,
            "year": info.year, "stage": info.stage, "nomenclature": info.nomenclature,
            "declinaison": info.declinaison, "plan_year": self.plan.year,
            "section": SECTIONS.get(section, ""), "direction": DIRECTIONS[raw.direction],
            "operation_kind": "ordre" if raw.order else "reel",
            "carryover": raw.nature in CARRYOVER_NATURES,
            "chapter_code": chapter_code, "chapter_label": chapter.label if chapter else "",
            "chapter_source": chapter_source, "vote_chapter": raw.contnat,
            "nature_code": raw.nature,
            "nature_label": account_label or raw.label_hint, "nature_known": known,
            "fonction_code": raw.fonction,
            "fonction_label": self.plan.fonction_label(raw.fonction) if raw.fonction else "",
            "operation_code": raw.operation, "specialised": raw.specialised,
            **amounts, "amount": amounts.get(self.amount_column),
            "source_file": info.source_file, "source_sha256": info.source_sha256,
            "source_line": source_line,
        }
        for name in COLUMN_NAMES:
            self.columns[name].append(row[name])

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
        if self.plan.year != self.info.year:
            found.append(f"Plan de comptes {self.plan.year} utilisé pour l'exercice "
                         f"{self.info.year} (année la plus proche disponible).")
        return found

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

    def frame(self) -> pd.DataFrame:
        return lines_frame(self.columns)
