"""Read any budget file, whatever its format: TOTEM XML or SCDL CSV, told apart by content.

What does not start like XML goes to the SCDL reader, which also refuses an empty file. The
kind is told from the first MB, before anything is read whole: archives, binaries and a CSV
whose first line never ends are refused from there. UTF-16 with a BOM is text like any other.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from budget_core.csvfile import (
    MAX_HEADER_BYTES,
    UTF16_BOMS,
    check_line_breaks,
    looks_utf16_without_bom,
    utf16_error,
)
from budget_core.errors import FormatError
from budget_core.fsutil import read_file, reading
from budget_core.model import BudgetDocument
from budget_core.totem import read_totem, read_totem_stream

ARCHIVES = {b"PK\x03\x04": "ZIP", b"\x1f\x8b": "gzip", b"7z\xbc\xaf": "7z",
            b"Rar!": "RAR", b"%PDF": "PDF", b"\x89PNG": "PNG"}


# An XML document in UTF-16 without a BOM starts with « < » and a NUL: XML's own rule (XML 1.0,
# appendix F) tells its encoding, as libxml2 and the anonymiser do. A CSV has no such rule.
UTF16_XML = (b"<\x00", b"\x00<")


def is_xml(head: bytes) -> bool:
    if head.startswith(UTF16_XML):
        return True
    if head.startswith(UTF16_BOMS):
        return head[:64].decode("utf-16", errors="ignore").lstrip(" \t\r\n").startswith("<")
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def refuse_binary(head: bytes, name: str) -> None:
    """Archives and other binary files are never opened (no decompression, no zip bomb)."""
    kind = next((kind for magic, kind in ARCHIVES.items() if head.startswith(magic)), None)
    if not kind and head.startswith((*UTF16_BOMS, *UTF16_XML)):
        return  # UTF-16 text: its NUL bytes are half of its ASCII characters
    if not kind and looks_utf16_without_bom(head):
        raise utf16_error(name)
    if kind or b"\x00" in head:
        raise FormatError(f"fichier {kind or 'binaire'} : ni un document TOTEM (XML) ni un CSV "
                          "SCDL.", source=name,
                          hint="Les archives ne sont pas ouvertes : décompressez-les et "
                               "déposez le fichier XML ou CSV qu'elles contiennent.")


def sniff(head: bytes, size: int, name: str) -> bool:
    """True for XML, False for a CSV worth reading; a FormatError for anything else. `head` is
    the first MB (or all) of a file of `size` bytes."""
    refuse_binary(head, name)
    if is_xml(head):
        return True
    check_line_breaks(head, size, name)
    return False


def read_head(path: Path, name: str) -> tuple[bytes, int]:
    """The first MB of a file and its size: enough to tell what it is."""
    with reading(name), path.open("rb") as handle:
        return handle.read(MAX_HEADER_BYTES), os.fstat(handle.fileno()).st_size


def read_documents(path: Path, *, nomenclature: str | None = None,
                   name: str | None = None) -> list[BudgetDocument]:
    """Every budget document a file holds (one for TOTEM, one per SIRET × year × stage in SCDL).

    `name` is what messages and lines call the file (the published name of a download).
    """
    name = name or path.name
    if sniff(*read_head(path, name), name):
        return [read_totem(path, name=name)]
    from budget_core.scdl import parse_scdl_bytes  # pandas: not for what only reads TOTEM

    return parse_scdl_bytes(read_file(path, name), name=name, nomenclature=nomenclature)


def read_uploaded(data: bytes, name: str, *, nomenclature: str | None = None
                  ) -> list[BudgetDocument]:
    """Same as read_documents for bytes already in memory (an upload in the app)."""
    if sniff(data[:MAX_HEADER_BYTES], len(data), name):
        return [read_totem_stream(io.BytesIO(data), name=name)]
    from budget_core.scdl import parse_scdl_bytes

    return parse_scdl_bytes(data, name=name, nomenclature=nomenclature)
