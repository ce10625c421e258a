"""French number formats, in one place: `1 234 567 €`, `12,5 %`."""

from __future__ import annotations

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
