"""French number formats, in one place: `1 234 567 €`, `12,5 %`."""

from __future__ import annotations

import re
from decimal import Decimal

NNBSP = "\u202f"  # espace fine insécable: the French thousands separator


def euros(value: Decimal | float | int | None, decimals: int = 0) -> str:
    """`1234567.891` → `1 234 568 €` (or `1 234 567,89 €` with decimals=2); None → `—`."""
    if value is None:
        return "—"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", NNBSP).replace(".", ",") + f"{NNBSP}€"


def percent(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{decimals}f}".replace(".", ",") + f"{NNBSP}%"


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
