"""Any budget file → one SCDL 0.8.3 CSV, written atomically (`python -m budget_core convert`).

A TOTEM document is streamed: each `LigneBudget` is mapped (`mapping.LineMapper`, the mapping
the app's frames go through) and written as an SCDL row as soon as it is read, so memory stays
flat whatever the file's size and neither pandas nor pyarrow is loaded. An SCDL file is read
into documents (`read_documents`) and written from their frames, through the same row writer.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path

from budget_core.formats import read_documents, read_head, sniff
from budget_core.fsutil import atomic_writer, reading
from budget_core.mapping import LineMapper
from budget_core.scdlwrite import frame_records, write_scdl
from budget_core.totem import TotemLines


def convert_file(path: Path, output: Path, *, nomenclature: str | None = None) -> int:
    """Write the SCDL CSV of every document `path` holds to `output`; the rows written.

    On any error `output` is left as it was (nothing half-written)."""
    lines = canonical_lines(path, nomenclature=nomenclature)
    with atomic_writer(output) as out:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        rows = write_scdl(text, lines)
        text.detach()  # flushed; `out` stays open for atomic_writer's fsync
    return rows


def canonical_lines(path: Path, *, nomenclature: str | None = None
                    ) -> Iterator[Mapping[str, object]]:
    """Every canonical line of a file as {column: value}, read as it is consumed."""
    name = path.name
    if sniff(*read_head(path, name), name):
        with reading(name), path.open("rb") as raw:
            document = TotemLines(raw, name, LineMapper, hashed=False)  # no SHA-256 in SCDL
            for line in document:
                yield document.mapper.record(line)
        return
    for scdl_document in read_documents(path, nomenclature=nomenclature):
        yield from frame_records(scdl_document.lines)
