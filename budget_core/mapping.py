"""From a raw budget line (nature, direction, real/order, vote chapter) to a canonical line.

Shared by the TOTEM and SCDL readers, so a line means the same whatever file it came from:
the chapter is the document's vote chapter (ContNat) when given, else the plan's chapter for
the nature, the direction and the kind of operation.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from budget_core.model import (
    CARRYOVER_NATURES,
    COLUMN_NAMES,
    DIRECTIONS,
    LINE_SCHEMA,
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


# Columns that are the same on every line of a document: filled once per batch.
CONSTANT_COLUMNS = ("siret", "siren", "entity_name", "entity_type", "insee", "budget_kind",
                    "budget_label", "year", "stage", "nomenclature", "declinaison", "plan_year",
                    "source_file", "source_sha256")
# Columns that depend only on how a line is classified (cached per classification).
MAPPED_COLUMNS = ("section", "direction", "operation_kind", "carryover", "chapter_code",
                  "chapter_label", "chapter_source", "vote_chapter", "nature_code",
                  "nature_label", "nature_known", "fonction_code", "fonction_label",
                  "operation_code", "specialised")
LINE_COLUMNS_ = tuple(c for c in COLUMN_NAMES if c not in CONSTANT_COLUMNS)
BATCH_LINES = 50_000
# Takes each Arrow batch of lines instead of the builder keeping it (validation tallies them).
BatchSink = Callable[[pa.RecordBatch], None]


class LineBuilder:
    """Collects mapped lines, then builds the canonical frame.

    Lines are kept as Python lists for at most BATCH_LINES lines, then turned into an Arrow
    record batch, so memory grows with the compact Arrow size of a document, not with Python
    objects. A line's mapping depends only on its codes: it is computed once per distinct
    classification. With `on_batch`, batches go there and the builder keeps none.
    """

    def __init__(self, info: DocumentInfo, plan: Plan,
                 on_batch: BatchSink | None = None) -> None:
        self.info = info
        self.plan = plan
        self.on_batch = on_batch
        self.amount_column = main_amount_column(info.stage)
        self.columns: dict[str, list[object]] = {name: [] for name in LINE_COLUMNS_}
        self.batches: list[pa.RecordBatch] = []
        self.unknown_natures: set[str] = set()
        self.notes: list[str] = []
        self._mapped: dict[RawLine, tuple[object, ...]] = {}
        # 8 bytes a line: the hash of each line that carries money, to count exact copies
        self._hashes = array("q")

    def add(self, raw: RawLine, amounts: dict[str, Decimal | None], source_line: int) -> None:
        if any(amounts.values()):  # a copied line of zeros changes no figure
            self._hashes.append(hash((raw, *amounts.values())))
        mapped = self._mapped.get(raw)
        if mapped is None:
            mapped = self._mapped[raw] = self._map(raw)
        columns = self.columns
        for name, value in zip(MAPPED_COLUMNS, mapped, strict=True):
            columns[name].append(value)
        for name, value in amounts.items():
            columns[name].append(value)
        columns["amount"].append(amounts.get(self.amount_column))
        columns["source_line"].append(source_line)
        if len(columns["source_line"]) >= BATCH_LINES:
            self.flush()

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

    def flush(self) -> None:
        """Turn the lines collected so far into an Arrow batch (a reader building many
        documents at once flushes them all from time to time). The mapping cache goes too: it
        holds each distinct line's text, as much as the lines themselves in a document of
        distinct lines, and a thousand documents read at once would each keep theirs."""
        self._mapped.clear()
        count = len(self.columns["source_line"])
        if not count:
            return
        info = self.info
        constants = {name: getattr(info, name, None) for name in CONSTANT_COLUMNS}
        constants["plan_year"] = self.plan.year
        arrays = [
            pa.repeat(pa.scalar(constants[name], type=type_), count) if name in CONSTANT_COLUMNS
            else pa.array(self.columns[name], type=type_)
            for name, type_ in zip(LINE_SCHEMA.names, LINE_SCHEMA.types, strict=True)
        ]
        batch = pa.RecordBatch.from_arrays(arrays, schema=LINE_SCHEMA)
        if self.on_batch:
            self.on_batch(batch)
        else:
            self.batches.append(batch)
        self.columns = {name: [] for name in LINE_COLUMNS_}

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

    def frame(self, source_sha256: str | None = None) -> pd.DataFrame:
        """The canonical lines frame (the SHA-256 may be known only once the file is read)."""
        if source_sha256 is not None:
            self.info.source_sha256 = source_sha256
        self.flush()
        table = pa.Table.from_batches(self.batches, schema=LINE_SCHEMA)
        if source_sha256 is not None:
            index = LINE_SCHEMA.get_field_index("source_sha256")
            table = table.set_column(index, "source_sha256",
                                     pa.array([source_sha256] * len(table), pa.string()))
        return table.to_pandas(types_mapper=pd.ArrowDtype)
