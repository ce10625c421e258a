"""French number formats, in one place: `1 234 567,89 €`, `116,3 M€`, `12,5 %`, `45 560`.

Every text the app shows a number in goes through here (the charts' axes use the same rules
in Vega's expression language, `charts.COMPACT_EUROS`). Thousands are separated by the
narrow no-break space, the decimal mark is the comma.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI prints through `printable` without loading pandas
    import pandas as pd
    from pandas.io.formats.style import Styler

NNBSP = "\u202f"  # espace fine insécable: the French thousands separator
# Compact amounts: the largest unit the value reaches, one decimal at most (« 116,3 M€ »).
UNITS = ((Decimal(10) ** 9, "Md€"), (Decimal(10) ** 6, "M€"), (Decimal(10) ** 3, "k€"))


Number = Decimal | float | int


def _no_figure(value: Number) -> bool:
    """NaN (pandas' empty cell) or an infinity (a division by zero, such as an amount per
    inhabitant of a commune of no inhabitant): nothing to write."""
    if isinstance(value, int):
        return False
    if isinstance(value, Decimal):
        return not value.is_finite()
    return not math.isfinite(value)


def _rounded(value: Number, decimals: int) -> Decimal:
    """Rounded half up on the exact decimal value (a float through its shortest repr)."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _text(exact: Decimal, decimals: int) -> str:
    exact = exact or abs(exact)  # what rounds to zero is `0`, never `-0`
    return f"{exact:,.{decimals}f}".replace(",", NNBSP).replace(".", ",")


def number(value: Number | None, decimals: int = 0) -> str:
    """`45560` → `45 560`; `1234.5` with decimals=2 → `1 234,50`; None or NaN → `—`."""
    if value is None or _no_figure(value):
        return "—"
    return _text(_rounded(value, decimals), decimals)


def euros(value: Number | None, decimals: int = 0) -> str:
    """`1234567.891` → `1 234 568 €` (or `1 234 567,89 €` with decimals=2); None → `—`."""
    if value is None or _no_figure(value):
        return "—"
    return f"{number(value, decimals)}{NNBSP}€"


def compact_euros(value: Number | None) -> str:
    """`116313558` → `116,3 M€`, `2000000` → `2 M€`, `968446` → `968,4 k€`, `850` → `850 €`:
    the largest unit the value reaches, or would reach once rounded (999 950 → `1 M€`, not
    `1 000 k€`), with one decimal at most."""
    if value is None or _no_figure(value):
        return "—"
    exact = _rounded(value, 2)
    for size, unit in UNITS:
        if abs(_rounded(exact * 1000 / size, 1)) >= 1000:
            return f"{_text(_rounded(exact / size, 1), 1).removesuffix(',0')}{NNBSP}{unit}"
    return euros(value)


def percent(value: Number | None, decimals: int = 1, *, signed: bool = False) -> str:
    """`0.1234` → `12,3 %`; a change (`signed`) shows its direction: `+12,3 %`, `-4,0 %`."""
    if value is None or _no_figure(value):
        return "—"
    shown = _rounded(value, decimals + 4) * 100
    plus = "+" if signed and _rounded(shown, decimals) > 0 else ""
    return f"{plus}{number(shown, decimals)}{NNBSP}%"


def years(value: Number | None) -> str:
    """A duration in years: `1,0 an`, `2,3 ans` (French puts the plural from 2 on)."""
    if value is None or _no_figure(value):
        return "—"
    rounded = _rounded(value, 1)
    return f"{_text(rounded, 1)} {'an' if abs(rounded) < 2 else 'ans'}"


def rank(position: int, among: int) -> str:
    """« 1re sur 12 », « 3e sur 12 »: a collectivité's rank (1 = the highest) in its group."""
    return f"{position}{'re' if position == 1 else 'e'} sur {among}"


def french_table(frame: pd.DataFrame, *, money: Sequence[str] = (),
                 counts: Sequence[str] = (), shares: Sequence[str] = ()) -> Styler:
    """A frame shown the French way whatever the browser's language (Streamlit's own number
    formats follow it): amounts `1 234,50 €`, counts `45 560`, shares `12,5 %`, empty cells
    « — ». The cells stay numbers underneath (Streamlit shows the Styler's text and sorts
    by value), but in a column with an empty cell, which is shown as text (sorted as text)."""
    shown = frame.copy()
    for column in money:
        shown[column] = shown[column].astype(float)
    formats: dict[Any, str | Callable[[object], str] | None] = {
        **{column: partial(euros, decimals=2) for column in money},
        **dict.fromkeys(counts, partial(number, decimals=0)),
        **dict.fromkeys(shares, partial(percent, decimals=1))}
    # Streamlit's grid draws a missing value as its own « None », whatever the Styler's
    # na_rep: a column with an empty cell is shown as its French text (« — » for the empty).
    for column in [c for c in shown.columns if shown[c].isna().any()]:
        given = formats.pop(column, None)
        write = given if callable(given) else _plain
        missing = shown[column].isna().tolist()
        shown[column] = ["—" if gone else write(value)
                         for value, gone in zip(shown[column], missing, strict=True)]
    others: list[Hashable] = [column for column in shown.columns if column not in formats]
    return shown.style.format(formats, na_rep="—").format(_plain, na_rep="—", subset=others)


def _plain(value: object) -> str:
    """A code, a year, a line number: as written, without pandas' `4.000000` for an integer
    column that holds an empty cell; a yes/no in French."""
    if isinstance(value, bool) or getattr(value, "dtype", None) == "bool":  # numpy's too
        return "oui" if value else "non"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value).replace(".", ",")
    return str(value)


MARKDOWN_SPECIALS = set("\\`*_[]()#<>!|~$:{}+-")


def md_escape(text: object) -> str:
    """Text from a document shown through Markdown as plain text: every character Markdown
    (or Streamlit's `:colour[...]`, `$latex$` extensions) could interpret is escaped, so a
    name like `[clic](javascript:...)` or `<script>` is displayed, never rendered."""
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in str(text))


# C0 controls but tab, line feed and carriage return (the progress bar's), DEL, C1 controls
# (0x9b is a one-byte CSI) and the bidirectional overrides that reorder what is shown.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text safe to write to a terminal: no escape sequence (ANSI colours, OSC window titles,
    cursor moves) from a portal title or a document's name can reach it."""
    return _CONTROLS.sub("", text)
