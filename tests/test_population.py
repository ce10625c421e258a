"""Per inhabitant, the population of the budget's year: the document's own, else the INSEE
population légale in force that year, else the latest shipped, always said which."""

from __future__ import annotations

import json

from lxml import etree

from budget_core import population
from tests.conftest import FIXTURES, TOTEM

MONTREUIL = "219300480"


def pop_tot(name: str) -> int:
    """The population totale a real document states (InformationsGenerales, PopTot)."""
    tree = etree.parse(str(TOTEM / name))
    [value] = tree.xpath("//*[local-name()='Information'][@Code='PopTot']/@V")
    return int(str(value).replace(" ", ""))


def test_the_population_in_force_is_the_one_montreuils_ca_2022_states() -> None:
    """Montreuil's CA 2022 divides by 111 810 inhabitants: the population totale légale in
    force in 2022 (INSEE, census millésime 2019), as the shipped history has it."""
    stated = pop_tot("Montreuil_CA_2022.xml")
    assert population.in_force(MONTREUIL, 2022) == stated == 111_810
    head = population.of_document(MONTREUIL, None, 2022)
    assert (head.value, head.source, head.year) == (stated, "insee_year", 2022)
    assert head.french() == ("population totale légale en vigueur en 2022 (INSEE, "
                             "recensement millésime 2019)")


def test_the_document_comes_first_then_the_year_then_the_latest() -> None:
    assert population.of_document(MONTREUIL, 112_864, 2023) == population.Population(
        112_864, "document")
    # 2016 is not shipped: the latest population légale, and the page says which.
    head = population.of_document(MONTREUIL, None, 2016)
    assert head.source == "insee" and head.value == population.by_siren([MONTREUIL])[MONTREUIL]
    assert head.french() == population.SOURCE
    # An EPCI has no history: the latest shipped.
    assert population.of_document("243500782", None, 2022).source == "insee"


def test_a_commune_whose_territory_changed_has_no_older_figure() -> None:
    """Saint-Denis (93) became a commune nouvelle (the COG lists a commune déléguée
    Saint-Denis under it, and Pierrefitte-sur-Seine): its 2022 figure would be a part of
    today's commune, so none is given before the year its table counts it whole."""
    geo = json.loads((FIXTURES / "geo" / "decoupage_extract.json").read_text(encoding="utf-8"))
    [today] = [c for c in geo["communes"] if c["code"] == "93066"
               and c["type"] == "commune-actuelle"]
    assert any(c["type"] == "commune-deleguee" and c["chefLieu"] == "93066"
               for c in geo["communes"])
    assert population.in_force(today["siren"], 2022) is None
    assert population.in_force(today["siren"], 2026) is not None
    assert population.of_document(today["siren"], None, 2022).source == "insee"
