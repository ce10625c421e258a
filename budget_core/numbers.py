"""What a budget document may write as a digit, a year or an amount: one grammar for every reader.

Python's own parsers are too kind for files from the internet: `str.isdigit()` accepts `²` and
`５`, `int()` and `Decimal()` accept Arabic-Indic digits and `1_000`, and `Decimal("1E+999999999")`
parses, then fails to round. Checked on the real files: TOTEM `V` amounts and SCDL cells are
plain ASCII decimals with at most two decimals, never an exponent, never a thousands separator
(French exports of SCDL may use a decimal comma and space-grouped thousands, `1 234,56`).
Anything else is refused with a message naming the value and where it is.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

from budget_core.errors import FormatError
from budget_core.model import AMOUNT_PRECISION, AMOUNT_SCALE, CENT

# decimal128(18, 2): 16 digits before the decimal point at most.
MAX_INTEGER_DIGITS = AMOUNT_PRECISION - AMOUNT_SCALE
LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS
ZERO = Decimal("0.00")
FIRST_YEAR = 2000  # no dematerialised budget document is older
MAX_POPULATION = 100_000_000  # more than France: no collectivité states more

# xs:decimal (TOTEM) with cents at most; SCDL also takes a decimal comma, and spaces (plain,
# no-break, narrow no-break) between groups of exactly three digits.
# The groups capture the decimals.
_TOTEM = re.compile(r"[+-]?(?:\d+(?:\.(\d*))?|\.(\d+))", re.ASCII)
_SCDL = re.compile(r"[+-]?(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d*))?", re.ASCII)
_TO_DECIMAL = str.maketrans({" ": None, "\u00a0": None, "\u202f": None, ",": "."})


def is_digits(text: str) -> bool:
    """Only ASCII 0-9 are digits (`str.isdigit()` also says yes to `²`, `５` and `٣`)."""
    return text.isascii() and text.isdigit()


def is_siret(text: str) -> bool:
    return len(text) == 14 and is_digits(text)


def parse_population(text: str | None) -> int | None:
    """`3 446` (any spaces as thousands separators) → 3446; empty, zero, unreadable or more
    than MAX_POPULATION → None.

    A document that states a population of 0 (a budget annexe) gives none; one that states
    24 digits made the store's int64 column overflow (a traceback on adding the document)."""
    digits = "".join((text or "").split()).split(",")[0]
    if not is_digits(digits) or len(digits) > len(str(MAX_POPULATION)):
        return None
    return int(digits) if 0 < int(digits) <= MAX_POPULATION else None


def last_plausible_year() -> int:
    """A budget is voted in the year before at the earliest (a BP in December). The local
    year from `time` (built in), as `date.today()` gives it without importing datetime."""
    return time.localtime().tm_year + 1


def plausible_year(text: str) -> int | None:
    """The year written on 4 ASCII digits from FIRST_YEAR to next year, else None."""
    if len(text) != 4 or not is_digits(text):
        return None
    year = int(text)
    return year if FIRST_YEAR <= year <= last_plausible_year() else None


def year_error(text: str, *, source: str, where: str) -> FormatError:
    return FormatError(f"exercice « {text} » invalide : une année de {FIRST_YEAR} à "
                       f"{last_plausible_year()} sur 4 chiffres est attendue.", source=source,
                       where=where, hint="Corrigez l'exercice dans le document.")


def parse_amount(text: str, *, source: str, where: str, scdl: bool) -> Decimal | None:
    """An amount in euros and cents (None when empty), or a FormatError saying why not.

    `scdl` also admits the French writing of a CSV cell: decimal comma, grouped thousands.
    """
    text = text.strip()
    if not text:
        return None
    match = (_SCDL if scdl else _TOTEM).fullmatch(text)
    if not match:
        raise FormatError(f"montant « {text} » refusé : {_why(text, scdl)}.", source=source,
                          where=where, hint="Écrivez les montants en chiffres (0-9), avec un "
                          "point " + ("ou une virgule " if scdl else "") + "avant les "
                          "centimes, sans exposant ni séparateur de milliers ambigu.")
    if len(next(filter(None, match.groups()), "")) > 2:
        raise FormatError(f"montant « {text} » refusé : plus de deux décimales ("
                          + ("séparateur de milliers ou centimes ? " if scdl else "")
                          + "un montant s'écrit en euros et centimes).", source=source,
                          where=where, hint="Écrivez les centimes sur deux chiffres au plus.")
    amount = Decimal(text.translate(_TO_DECIMAL) if scdl else text)
    if abs(amount) >= LIMIT:
        raise FormatError(f"montant « {text} » hors limites : au plus {MAX_INTEGER_DIGITS} "
                          "chiffres avant la virgule.", source=source, where=where,
                          hint="Vérifiez le montant : aucun budget n'atteint 10 millions de "
                               "milliards d'euros.")
    # -0.00 is 0.00, as Arrow stores it: a streamed CSV and a frame's write the same text
    return amount.quantize(CENT) or ZERO


def _why(text: str, scdl: bool) -> str:
    """What makes `text` not an amount, for the message."""
    if not text.isascii():
        odd = next(c for c in text if not c.isascii())
        return f"caractère « {odd} » (U+{ord(odd):04X}) : seuls les chiffres 0-9 sont admis"
    if re.search(r"\d[eE][+-]?\d", text):
        return "notation scientifique (exposant), qu'aucun document budgétaire n'emploie"
    if "," in text and "." in text:
        return "virgule et point à la fois : séparateur de milliers ou décimal, ambigu"
    if not scdl and "," in text:
        return "virgule décimale : un montant TOTEM s'écrit avec un point"
    if " " in text:
        return "espace ailleurs qu'entre des groupes de trois chiffres"
    other = next((c for c in text if not (c.isdigit() or c in "+-.,")), None)
    if other is not None:
        return f"caractère « {other} » non admis dans un nombre"
    return "ce n'est pas un nombre"
