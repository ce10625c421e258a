"""OFGL national accounts: exports by year, resume, peers, and the financial indicators."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from budget_core.errors import FormatError
from budget_core.http import Http, make_session
from budget_core.indicators import from_lines, from_ofgl
from budget_core.national import NationalStore, normalise_export
from tests.conftest import FIXTURES, TOTEM, parsed
from tests.portal_server import PortalServer, running

GUADELOUPE = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"
ABYMES = "219711017"


@pytest.fixture
def server() -> Iterator[PortalServer]:
    for server in running():
        data = GUADELOUPE.read_bytes()
        # The real 2024 export, plus the same rows as 2023 (a second year to resume on).
        head, *rows = data.split(b"\n")
        server.ods_tables["ofgl-base-communes"] = b"\n".join(
            [head, *rows, *[b"2023" + r[4:] for r in rows if r]])
        yield server


def test_export_is_normalised_with_codes_as_text() -> None:
    table = normalise_export(GUADELOUPE.read_bytes(), "ofgl")
    frame = table.to_pandas()
    assert len(frame) == 2505
    abymes = frame[(frame["siren"] == ABYMES) & (frame["agregat"] == "Epargne brute")].iloc[0]
    assert (abymes["insee"], abymes["departement_code"], abymes["region_code"]) == (
        "97101", "971", "01")
    assert abymes["strate"] == "9" and abymes["population"] == 52586
    assert abymes["amount"] == pytest.approx(abymes["per_inhabitant"] * 52586)


def test_download_by_year_through_exports_and_resume(tmp_path: Path,
                                                      server: PortalServer) -> None:
    store = NationalStore(tmp_path)
    http = Http(make_session(retries=1, backoff=0.05), timeout=10)
    export = "/api/explore/v2.1/catalog/datasets/ofgl-base-communes/exports/csv"
    server.faults[export] = ["500", "500", "500"]  # 2023 fails: retries exhausted
    with pytest.raises(Exception, match="500"):
        store.download(http, server.url, "communes", [2023, 2024])
    assert store.years("communes") == []
    fetched = store.download(http, server.url, "communes", [2023, 2024])
    assert fetched == [2023, 2024] and store.years("communes") == [2023, 2024]
    hits = server.hits[export]
    assert store.download(http, server.url, "communes", [2023, 2024]) == []  # resumed: none
    assert server.hits[export] == hits
    both = store.entity("communes", ABYMES)
    assert set(both["year"]) == {2023, 2024}


def test_placement_among_peers(tmp_path: Path) -> None:
    store = NationalStore(tmp_path)
    store.add_export("communes", GUADELOUPE.read_bytes(), "ofgl")
    frame = store.query("communes", "SELECT siren, per_inhabitant FROM ofgl WHERE agregat = ? "
                        "AND budget_type = 'Budget principal'", ["Epargne brute"])
    [row] = store.placement("communes", ABYMES, "Epargne brute", "departement_code").to_dict(
        "records")
    values = frame["per_inhabitant"]
    assert row["peers"] == len(values) == 32
    assert row["median"] == pytest.approx(values.median())
    assert row["q1"] == pytest.approx(values.quantile(0.25))
    assert row["rank"] == 1 + int((values > row["value"]).sum())
    custom = store.placement("communes", ABYMES, "Epargne brute", None,
                             custom=[ABYMES, "219711025"])
    assert custom["peers"].tolist() == [2]


def test_indicators_from_ofgl_rows_hand_checked() -> None:
    frame = normalise_export(GUADELOUPE.read_bytes(), "ofgl").to_pandas()
    rows = frame[(frame["siren"] == ABYMES) & (frame["budget_type"] == "Budget principal")]
    amount = rows.set_index("agregat")["amount"]
    values = from_ofgl(rows)
    assert values["epargne_brute"] == pytest.approx(amount["Epargne brute"])
    assert values["taux_epargne_brute"] == pytest.approx(
        amount["Epargne brute"] / amount["Recettes de fonctionnement"])
    assert values["capacite_desendettement"] == pytest.approx(
        amount["Encours de dette"] / amount["Epargne brute"])
    assert values["dette_par_habitant"] == pytest.approx(amount["Encours de dette"] / 52586)


def test_negative_epargne_brute_gives_no_capacity_and_missing_is_not_zero() -> None:
    rows = pd.DataFrame({"agregat": ["Epargne brute", "Encours de dette"],
                         "amount": [-1000.0, 50000.0], "population": [100.0, 100.0]})
    values = from_ofgl(rows)
    assert values["capacite_desendettement"] is None
    assert values["taux_epargne_brute"] is None  # no « Recettes de fonctionnement » row
    assert values["epargne_nette"] is None


def test_indicators_from_our_lines_pinned_on_montreuil_2022() -> None:
    """Recomputed here from the XML itself: real fonctionnement CA amounts, without 002
    carried over nor 775 cessions; interests 6611*; capital 16* but 166, 1645, 16449."""
    ns = {"d": "http://www.minefi.gouv.fr/cp/demat/docbudgetaire"}
    tree = etree.parse(str(TOTEM / "Montreuil_CA_2022.xml"))
    lines = parsed(TOTEM / "Montreuil_CA_2022.xml").lines
    section = dict(zip(lines["source_line"], lines["section"], strict=True))
    rrf = drf = interests = repayments = 0.0
    for line in tree.xpath("//d:LigneBudget", namespaces=ns):
        get = {etree.QName(c).localname: c.get("V") for c in line}
        if get.get("OpBudg") != "0" or get["Nature"] in ("001", "002"):
            continue
        amount = float(get.get("MtReal") or 0)
        nature, where = get["Nature"], section[line.sourceline]
        if where == "fonctionnement" and get["CodRD"] == "R" and not nature.startswith("775"):
            rrf += amount
        if where == "fonctionnement" and get["CodRD"] == "D":
            drf += amount
            interests += amount if nature.startswith("6611") else 0
        if where == "investissement" and get["CodRD"] == "D" and nature.startswith("16") \
                and not nature.startswith(("166", "1645", "16449")):
            repayments += amount
    values = from_lines(lines, population=111934)
    assert values["epargne_brute"] == pytest.approx(rrf - drf, abs=0.005)
    assert values["epargne_gestion"] == pytest.approx(rrf - drf + interests, abs=0.005)
    assert values["epargne_nette"] == pytest.approx(rrf - drf - repayments, abs=0.005)
    assert values["epargne_brute"] == pytest.approx(21213279.12, abs=0.005)
    assert values["taux_epargne_brute"] == pytest.approx((rrf - drf) / rrf)
    assert values["capacite_desendettement"] is None  # no debt outstanding in the lines


def test_export_without_the_expected_columns_is_refused() -> None:
    with pytest.raises(FormatError, match="use_labels=true"):
        normalise_export(b"exer;siren;montant\n2024;1;2\n", "brut")


def test_epci_peers_by_fiscal_regime_come_from_the_cog(tmp_path: Path) -> None:
    """An EPCI export lacking the regime gets it from the shipped COG (epci.json)."""
    frame = pd.read_csv(GUADELOUPE, sep=";", dtype=str, encoding="utf-8-sig")
    epci = frame[frame["Type de budget"] == "Budget principal"].copy()
    epci["Code Siren Collectivité"] = epci["Code Siren 2024 EPCI"]
    epci["Catégorie"] = "GFP"
    epci = epci.drop_duplicates(["Code Siren Collectivité", "Agrégat"])
    store = NationalStore(tmp_path)
    store.add_export("gfp", epci.to_csv(sep=";", index=False).encode("utf-8-sig"), "gfp")
    regimes = store.query("gfp", "SELECT DISTINCT siren, fiscal_regime FROM ofgl ORDER BY 1")
    assert dict(zip(regimes["siren"], regimes["fiscal_regime"], strict=True))[
        "200018653"] == "FPU"  # CA Cap Excellence
    [row] = store.placement("gfp", "200018653", "Epargne brute", "fiscal_regime").to_dict(
        "records")
    assert row["peers"] == int((regimes["fiscal_regime"] == "FPU").sum())
