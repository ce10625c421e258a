"""A CSV's bytes as text and rows: encoding, line ends, separator. Shared by the SCDL reader and
the validator, so that what one reads the other checks.

Encodings met: UTF-8 with or without BOM, Windows-1252 / Latin-1, and UTF-16 with a BOM (what
spreadsheets call « Unicode text »). A file that is mostly UTF-8 with one bad byte is refused
with the byte's line: decoding it as Latin-1 would silently turn every « é » into « Ã© ».
Line ends may be LF, CRLF or CR alone (old Mac spreadsheets).

The bytes are read a MB at a time and the text decoded a line at a time, so a big file costs
its rows, never a copy of its text: one pass tells the encoding (on the whole file, as if it
were decoded at once), the next ones read the rows (`Opener` opens the bytes afresh).
"""

from __future__ import annotations

import _csv
import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from budget_core.errors import FormatError
from budget_core.fsutil import Opener

MAX_HEADER_BYTES = 1_000_000  # a CSV header is under 1 kB: beyond 1 MB it is not one
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF8_BOM = b"\xef\xbb\xbf"


def looks_utf16_without_bom(head: bytes) -> bool:
    """ASCII text in UTF-16 without a BOM: every other byte is NUL."""
    sample = head[:512]
    even, odd = sample[0::2], sample[1::2]
    return len(sample) >= 4 and ((all(even) and not any(odd)) or (all(odd) and not any(even)))


def utf16_error(name: str) -> FormatError:
    return FormatError("texte en UTF-16 sans indicateur d'ordre des octets (BOM) : encodage "
                       "impossible à lire sûrement.", source=name,
                       hint="Enregistrez le fichier en UTF-8 (ou en UTF-16 avec BOM).")


def check_line_breaks(head: bytes, size: int, name: str) -> None:
    """Refuse, from its first MB only, a file whose first line never ends (never read whole)."""
    if size > MAX_HEADER_BYTES and not re.search(rb"[\r\n]", head[:MAX_HEADER_BYTES]):
        raise FormatError(f"aucune fin de ligne dans le premier Mo ({size / 1e6:.0f} Mo au "
                          "total) : ce n'est pas un CSV SCDL.", source=name,
                          where="ligne 1 (en-tête)",
                          hint="Un CSV SCDL a une ligne d'en-tête puis une ligne par article.")


CHUNK_BYTES = 1 << 20
# A line (with its line end) longer than this is refused: a real SCDL row is under 1 kB, and a
# longer one would be held whole in memory (cells are capped at 128 kB by the csv module).
MAX_LINE_CHARS = 1_000_000
UTF16_ENCODING = "utf-16"  # with a BOM, which tells the byte order
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def chunks(opener: Opener) -> Iterator[bytes]:
    """The bytes, a MB at a time."""
    with opener() as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


@dataclass(frozen=True)
class CsvBytes:
    """What one pass over a CSV's bytes tells before any row is read: its text encoding
    (Python codec name), size and SHA-256."""

    encoding: str
    size: int
    sha256: str


def scan_csv(opener: Opener, name: str) -> CsvBytes:
    """Encoding, size and SHA-256 of a CSV in whichever of the encodings above it is written,
    in passes over its bytes a MB at a time (never the whole text in memory). A file whose
    first line does not end within its first MB is refused before the rest is read.

    The encoding is decided on the whole file, as if it were decoded at once: UTF-8 when every
    byte is valid UTF-8; a UTF-8 file with a bad byte (or any bad byte after a UTF-8 BOM) is
    refused at that byte's line; otherwise Windows-1252, or Latin-1 when a byte is undefined
    in Windows-1252.
    """
    import hashlib  # OpenSSL, 3 ms to load: not for what only reads TOTEM

    with opener() as handle:  # a first line that never ends is refused from the first MB
        check_line_breaks(handle.read(MAX_HEADER_BYTES), handle.seek(0, io.SEEK_END), name)
    digest, size, nonblank, head = hashlib.sha256(), 0, False, b""
    for chunk in chunks(opener):
        digest.update(chunk)
        size += len(chunk)
        nonblank = nonblank or bool(chunk.strip())
        head = head or chunk[:len(UTF8_BOM)]
    if not nonblank:
        raise FormatError("fichier vide.", source=name,
                          hint="Choisissez un document TOTEM (XML) ou un CSV SCDL budget.")
    return CsvBytes(_encoding(opener, head, name), size, digest.hexdigest())


def _encoding(opener: Opener, head: bytes, name: str) -> str:
    if head.startswith(UTF16_BOMS):
        bad = _first_bad_byte(opener, UTF16_ENCODING)
        if bad is not None:
            raise FormatError("UTF-16 invalide (fichier tronqué ?).", source=name,
                              where=f"octet {bad}", hint="Enregistrez le fichier en UTF-8.")
        return UTF16_ENCODING
    bom = head.startswith(UTF8_BOM)
    bad = _first_bad_byte(opener, "utf-8")
    if bad is None:
        return "utf-8-sig" if bom else "utf-8"
    if bom or _mostly_utf8(opener):
        line, byte = _line_and_byte(opener, bad)
        raise FormatError(f"octet 0x{byte:02X} invalide en UTF-8, alors que le reste du "
                          "fichier est en UTF-8 (fichier abîmé ou copier-coller d'un autre "
                          "encodage).", source=name, where=f"ligne {line}",
                          hint="Corrigez le caractère à cette ligne et enregistrez le "
                               "fichier en UTF-8.")
    if any(CP1252_UNDEFINED.search(chunk) for chunk in chunks(opener)):
        return "latin-1"  # decodes any byte
    return "cp1252"


def _first_bad_byte(opener: Opener, encoding: str) -> int | None:
    """Offset in the file of the first byte that does not decode, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    fed = 0
    try:
        for chunk in chunks(opener):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:  # exc.start counts in pending bytes + chunk
                return fed - pending + exc.start
            fed += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # truncated at the end
        return fed - len(exc.object) + exc.start
    return None


def _line_and_byte(opener: Opener, position: int) -> tuple[int, int]:
    """Line number (from 1, whatever the line ends) of the byte at `position`, and the byte."""
    newlines = returns = seen = 0
    for chunk in chunks(opener):
        if seen + len(chunk) > position:
            before = chunk[:position - seen]
            newlines += before.count(b"\n")
            returns += before.count(b"\r")
            return (newlines or returns) + 1, chunk[position - seen]
        newlines += chunk.count(b"\n")
        returns += chunk.count(b"\r")
        seen += len(chunk)
    raise AssertionError("position past the end of the file")


def _mostly_utf8(opener: Opener) -> bool:
    """More valid UTF-8 non-ASCII characters than invalid bytes: UTF-8 with a bad byte (as is
    any file that starts with the UTF-8 BOM). A Latin-1 file has almost no valid multi-byte
    sequence (« é » then a letter is invalid)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    invalid = non_ascii = 0
    for chunk in [*chunks(opener), b""]:
        text = decoder.decode(chunk, final=not chunk)
        invalid += text.count("\ufffd")
        non_ascii += len(text) - len(text.encode("ascii", errors="ignore"))
    return non_ascii - invalid > invalid


def csv_delimiter(header: str) -> str:
    """The separator the header line uses most."""
    return max((",", ";", "\t", "|"), key=header.count)


CSV_ERRORS = {  # what the csv module says → what it means
    "field larger than field limit": "une cellule dépasse 128 ko (guillemet jamais refermé ?)",
    "unexpected end of data": "le fichier se termine au milieu d'une cellule entre guillemets",
    "expected after": "guillemet mal placé au milieu d'une cellule",
    "NUL": "caractère nul dans le texte",
}


def csv_table(opener: Opener, encoding: str, name: str
              ) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the rows (numbered from 2, blank lines skipped) of a CSV whose encoding
    `scan_csv` told.

    The text is decoded and rows are produced as they are read, a line at a time; a ragged
    row, a broken quote or a line over MAX_LINE_CHARS is a French error naming the line.
    """
    lines = _lines(opener, encoding, name)
    first = next(lines, "")
    reader = csv.reader(itertools.chain([first], lines), delimiter=csv_delimiter(first))
    header = _next(reader, name) or []

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        while (row := _next(reader, name)) is not None:
            if not row:
                continue
            number += 1
            if len(row) != len(header):
                raise FormatError(
                    f"la ligne n'a pas le même nombre de colonnes que l'en-tête "
                    f"({len(row)} au lieu de {len(header)}).", source=name,
                    where=f"ligne {number}",
                    hint="Un seul séparateur (« , » ou « ; ») dans tout le fichier, et les "
                         "textes contenant ce séparateur entre guillemets.")
            yield number, row

    return header, rows()


def _lines(opener: Opener, encoding: str, name: str) -> Iterator[str]:
    """Each line with its end (LF, CRLF or CR alone: csv.reader takes the text line by line,
    so a CR-only file reads like any other)."""
    number = 0
    with opener() as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        try:
            while line := text.readline(MAX_LINE_CHARS):
                number += 1
                if len(line) >= MAX_LINE_CHARS:
                    raise FormatError("ligne d'un million de caractères ou plus : ce n'est "
                                      "pas une ligne de CSV SCDL.", source=name,
                                      where=f"ligne {number}",
                                      hint="Un CSV SCDL a une ligne par article ; vérifiez "
                                           "les fins de ligne et les guillemets.")
                yield line
        except UnicodeDecodeError:  # the encoding was told on other bytes
            raise FormatError("le fichier a changé pendant sa lecture.", source=name,
                              where=f"ligne {number + 1}",
                              hint="Relancez la lecture une fois le fichier écrit.") from None


def _next(reader: _csv.Reader, name: str) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as exc:
        what = next((french for english, french in CSV_ERRORS.items() if english in str(exc)),
                    "guillemets ou fins de ligne incohérents")
        raise FormatError(f"CSV mal formé : {what}.", source=name,
                          where=f"ligne {reader.line_num}",
                          hint="Vérifiez les guillemets et les retours à la ligne ; un CSV "
                               "SCDL a une ligne par article.") from exc
