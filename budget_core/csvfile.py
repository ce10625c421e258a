"""A CSV's bytes as text and rows: encoding, line ends, separator. Shared by the SCDL reader and
the validator, so that what one reads the other checks.

Encodings met: UTF-8 with or without BOM, Windows-1252 / Latin-1, and UTF-16 with a BOM (what
spreadsheets call « Unicode text »). A file that is mostly UTF-8 with one bad byte is refused
with the byte's line: decoding it as Latin-1 would silently turn every « é » into « Ã© ».
Line ends may be LF, CRLF or CR alone (old Mac spreadsheets).
"""

from __future__ import annotations

import _csv
import csv
import re
from collections.abc import Iterator

from budget_core.errors import FormatError

MAX_HEADER_BYTES = 1_000_000  # a CSV header is under 1 kB: beyond 1 MB it is not one
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF8_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(r"[\r\n]")
# A line with its end (LF, CRLF or CR alone): csv.reader takes the text line by line, so a
# CR-only file reads like any other.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


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


def line_of(data: bytes, position: int) -> int:
    """Line number (from 1) of a byte, whatever the line ends."""
    return (data.count(b"\n", 0, position) or data.count(b"\r", 0, position)) + 1


def decode_csv(data: bytes, name: str) -> str:
    """The text of a CSV in whichever of the encodings above it is written."""
    if not data.strip():
        raise FormatError("fichier vide.", source=name,
                          hint="Choisissez un document TOTEM (XML) ou un CSV SCDL budget.")
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FormatError("UTF-16 invalide (fichier tronqué ?).", source=name,
                              where=f"octet {exc.start}",
                              hint="Enregistrez le fichier en UTF-8.") from None
    bom = data.startswith(UTF8_BOM)
    try:
        return str(memoryview(data)[len(UTF8_BOM):], "utf-8") if bom else data.decode()
    except UnicodeDecodeError as exc:
        if bom or _mostly_utf8(data):
            bad = exc.start + (len(UTF8_BOM) if bom else 0)
            raise FormatError(f"octet 0x{data[bad]:02X} invalide en UTF-8, alors que le "
                              "reste du fichier est en UTF-8 (fichier abîmé ou copier-coller "
                              "d'un autre encodage).", source=name,
                              where=f"ligne {line_of(data, bad)}",
                              hint="Corrigez le caractère à cette ligne et enregistrez le "
                                   "fichier en UTF-8.") from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # decodes any byte


def _mostly_utf8(data: bytes) -> bool:
    """More valid UTF-8 non-ASCII characters than invalid bytes: UTF-8 with a bad byte (as is
    any file that starts with the UTF-8 BOM). A Latin-1 file has almost no valid multi-byte
    sequence (« é » then a letter is invalid)."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return non_ascii - invalid > invalid


def csv_delimiter(text: str) -> str:
    """The separator the header line uses most."""
    header = _LINE_END.split(text[:MAX_HEADER_BYTES], maxsplit=1)[0]
    return max((",", ";", "\t", "|"), key=header.count)


CSV_ERRORS = {  # what the csv module says → what it means
    "field larger than field limit": "une cellule dépasse 128 ko (guillemet jamais refermé ?)",
    "unexpected end of data": "le fichier se termine au milieu d'une cellule entre guillemets",
    "expected after": "guillemet mal placé au milieu d'une cellule",
    "NUL": "caractère nul dans le texte",
}


def csv_table(text: str, name: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the rows (numbered from 2, blank lines skipped) of a CSV text.

    Rows are produced as they are read; a ragged row or a broken quote is a French error
    naming the line.
    """
    lines = (match.group() for match in _LINE.finditer(text))
    reader = csv.reader(lines, delimiter=csv_delimiter(text))
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
