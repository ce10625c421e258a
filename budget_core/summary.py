"""What `inspect` and `validate` need of a document, without keeping its lines: totals by
section, the voted balance, order operations by chapter, natures unknown to the plan.

Summed line by line with exact decimals, from a lines frame, from a TOTEM document as it is
read (`totem_summary`: bounded memory, neither pandas nor pyarrow loaded), or from an SCDL file
a batch of lines at a time as it is read (`scdl_summaries`: bounded memory, lines never kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from budget_core.formats import read_head, sniff
from budget_core.fsutil import Opener, file_opener, reading
from budget_core.mapping import LineMapper
from budget_core.model import BudgetDocument, DocumentInfo
from budget_core.numbers import ZERO
from budget_core.scdlwrite import frame_records
from budget_core.totem import TotemLines

if TYPE_CHECKING:
    import pyarrow as pa

# The columns LineSums.add reads: all a batch of lines is cut down to before it is summed.
SUMMED_COLUMNS = ("section", "direction", "operation_kind", "amount", "mt_prev", "mt_rar_prec",
                  "chapter_code", "nature_known", "nature_code", "source_line")


@dataclass
class LineSums:
    """Exact sums over a document's lines, one line at a time."""

    count: int = 0
    # the stage's main amount by (section, direction, operation kind)
    amount: dict[tuple[str, str, str], Decimal] = field(default_factory=dict)
    # mt_prev + mt_rar_prec by (section, direction): what a vote balances
    voted: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    # the main amount of order operations by (chapter, direction)
    order: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    # (nature, source line) of every line whose nature is in no account of the plan
    unknown: list[tuple[str, int]] = field(default_factory=list)

    def add(self, line: Mapping[str, object]) -> None:
        """Count one canonical line ({column: value}, None when missing)."""
        self.count += 1
        section, direction = str(line["section"]), str(line["direction"])
        amount = _amount(line["amount"])
        key = (section, direction, str(line["operation_kind"]))
        self.amount[key] = self.amount.get(key, ZERO) + amount
        voted = _amount(line["mt_prev"]) + _amount(line["mt_rar_prec"])
        self.voted[section, direction] = self.voted.get((section, direction), ZERO) + voted
        if line["operation_kind"] == "ordre":
            chapter = (str(line["chapter_code"]), direction)
            self.order[chapter] = self.order.get(chapter, ZERO) + amount
        if not line["nature_known"]:
            self.unknown.append((str(line["nature_code"]), int(str(line["source_line"]))))

    def add_all(self, lines: Iterable[Mapping[str, object]]) -> LineSums:
        for line in lines:
            self.add(line)
        return self


def _amount(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else ZERO


@dataclass
class Summary:
    """A document without its lines: what it is, its sums, what its reader noted."""

    info: DocumentInfo
    sums: LineSums
    calculated_lines_skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    duplicate_lines: int = 0


def document_summary(document: BudgetDocument) -> Summary:
    return Summary(document.info, LineSums().add_all(frame_records(document.lines)),
                   document.calculated_lines_skipped, document.warnings,
                   document.duplicate_lines)


def totem_summary(stream: BinaryIO, name: str, *, hashed: bool = True) -> Summary:
    """Summary of a TOTEM document, summed as its lines are read; its SHA-256 in `info`
    unless `hashed` is False (what reports no SHA-256 does not pay for it)."""
    document = TotemLines(stream, name, LineMapper, hashed=hashed)
    sums = LineSums().add_all(document.mapper.record(line) for line in document)
    mapper = document.mapper
    if hashed:
        mapper.info.source_sha256 = document.sha256
    return Summary(mapper.info, sums, document.skipped, mapper.warnings(), mapper.duplicates())


def scdl_summaries(opener: Opener, name: str, *, nomenclature: str | None = None
                   ) -> list[Summary]:
    """Summary of every document (SIRET × year × stage) of an SCDL CSV: its lines are summed
    a batch at a time as the reader builds them, and never kept."""
    from budget_core.scdl import parse_scdl  # pandas and pyarrow: for SCDL files only

    sums: dict[tuple[str, int, str], LineSums] = {}

    def add(batch: pa.RecordBatch) -> None:  # a batch holds lines of one document
        key = tuple(batch.column(c)[0].as_py() for c in ("siret", "year", "stage"))
        sums.setdefault(key, LineSums()).add_all(batch.select(SUMMED_COLUMNS).to_pylist())

    documents = parse_scdl(opener, name=name, nomenclature=nomenclature, on_batch=add)
    return [Summary(d.info, sums.get((d.info.siret, d.info.year, d.info.stage), LineSums()),
                    d.calculated_lines_skipped, d.warnings, d.duplicate_lines)
            for d in documents]


def file_summaries(path: Path, *, nomenclature: str | None = None) -> list[Summary]:
    """The summary of every document a file holds (what `read_documents` reads, without the
    lines: in bounded memory whatever the file's size)."""
    name = path.name
    with reading(name):
        if sniff(*read_head(path, name), name):
            with path.open("rb") as raw:
                return [totem_summary(raw, name)]
        return scdl_summaries(file_opener(path), name, nomenclature=nomenclature)
