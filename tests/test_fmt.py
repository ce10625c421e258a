"""French number formats: the texts are written out by hand here, not computed."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from budget_core.fmt import compact_euros, euros, french_table, number, percent, years

S = "\u202f"  # the narrow no-break space French puts between thousands and before units


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("28286119.5"), f"28{S}286{S}119,50{S}€"),
    (Decimal("0.125"), f"0,13{S}€"),  # half up on the decimal (a float would give 0,12)
    (-1906439, f"-1{S}906{S}439,00{S}€"),
    (None, "—"),
    (float("nan"), "—"),
])
def test_amounts_in_tables_have_cents(value: Decimal | float | None, text: str) -> None:
    assert euros(value, 2) == text


@pytest.mark.parametrize(("value", "text"), [
    (116313558, f"116,3{S}M€"),
    (2_000_000, f"2{S}M€"),
    (999_950, f"1{S}M€"),  # rounds up into the next unit, not « 1 000 k€ »
    (42_585, f"42,6{S}k€"),
    (968_446, f"968,4{S}k€"),  # not « 1 M€ »: the unit is the one the amount reaches
    (Decimal("-42585.40"), f"-42,6{S}k€"),
    (850, f"850{S}€"),
    (1_200_000_000, f"1,2{S}Md€"),
    (None, "—"),
])
def test_compact_amounts_for_metrics_and_axes(value: Decimal | int | None, text: str) -> None:
    assert compact_euros(value) == text


def test_counts_shares_and_durations() -> None:
    assert number(45560) == f"45{S}560"
    assert percent(0.004016) == f"0,4{S}%"
    assert percent(1 / 3) == f"33,3{S}%"
    # A change on the year before: its direction always written, none when it rounds to 0.
    assert [percent(v, signed=True) for v in (0.0563, -0.159, 0.0004, -0.0004, 0)] == [
        f"+5,6{S}%", f"-15,9{S}%", f"0,0{S}%", f"0,0{S}%", f"0,0{S}%"]
    assert (number(-0.4), percent(-0.00004)) == ("0", f"0,0{S}%")  # never « -0 »
    assert (years(1), years(1.96), years(2.34)) == ("1,0 an", "2,0 ans", "2,3 ans")
    assert years(None) == "—"


@pytest.mark.parametrize("nothing", [None, float("nan"), float("inf"), float("-inf"),
                                     Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_what_has_no_figure_is_written_as_a_dash(nothing: object) -> None:
    """An infinity (an amount divided by a population of 0: DuckDB gives inf) is no figure:
    written « — » like an empty cell, where formatting it stopped the page on a traceback."""
    assert {write(nothing) for write in (number, euros, compact_euros, percent, years)} == {"—"}


def test_a_french_table_shows_text_and_keeps_numbers() -> None:
    frame = pd.DataFrame({"montant": [Decimal("1234.5"), None], "population": [45560, 3],
                          "taux": [0.125, None], "ligne": [None, 4.0],
                          "annee": [2023, 2022], "publie": [True, False]})
    styled = french_table(frame, money=["montant"], counts=["population"], shares=["taux"])
    cells = styled.to_string(delimiter="|").splitlines()
    assert cells[1:] == [f"0|1{S}234,50{S}€|45{S}560|12,5{S}%|—|2023|oui",
                         "1|—|3|—|4|2022|non"]
    assert styled.data["population"].dtype == "int64"  # sorted by value, not by text
    # Streamlit's grid draws a missing number as « None » whatever the Styler says (seen in
    # Évolution's first year, « évolution sur un an »): such a column holds the French text.
    assert styled.data["taux"].tolist() == [f"12,5{S}%", "—"]
    assert styled.data["montant"].tolist() == [f"1{S}234,50{S}€", "—"]
