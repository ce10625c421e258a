"""The DGFiP balances in the app's catalogue, and a commune against its peers chapter by
chapter, on the 20 real rows of tests/fixtures/balances/.

Every expected figure is computed here from the raw CSV (csv module, Decimal), the shipped
plan file (through tests.test_balances.expected_lines, which reads it with gzip + json), the
population table as shipped (pandas on the gzip CSV) and `statistics.quantiles`, never through
the code under test.
"""

from __future__ import annotations

import csv
import json
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from budget_core import balance_catalogue, balance_peers
from budget_core.balance_download import import_bytes, portal_url
from budget_core.balances import BalanceStore
from budget_core.cli import main
from budget_core.errors import FormatError, PortalError
from budget_core.national import NationalStore
from tests.conftest import FIXTURES
from tests.test_balances import CHAMBERY, GRENOBLE, SAMPLE, expected_lines, raw_rows

ANNECY, LYON = "20006340200016", "21690123100011"


def history_2024() -> dict[str, int]:
    """Population totale légale in force in 2024, by SIREN, as shipped."""
    path = resources.files("budget_core.data").joinpath("population_history.csv.gz")
    with resources.as_file(path) as file:
        frame = pd.read_csv(file, dtype={"siren": str}, compression="gzip")
    held = frame.dropna(subset=["2024"])
    return dict(zip(held["siren"], held["2024"].astype(int), strict=True))


def real_by_chapter(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], Decimal]:
    """(SIREN, direction, chapter) → real amount, by the documented rules."""
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for ident in {r["ident"] for r in rows}:
        mine = [r for r in rows if r["ident"] == ident]
        for _, kind, direction, chapter, amount in expected_lines(mine):
            if kind == "reel":
                sums[(ident[:9], direction, chapter)] += amount
    return dict(sums)


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[BalanceStore]:
    with BalanceStore(tmp_path / "balances") as store:
        store.import_csv(SAMPLE, "communes")
        yield store


def test_every_budget_and_year_is_a_catalogue_row_named_after_its_budget_principal(
        sample: BalanceStore) -> None:
    rows = raw_rows()
    catalogue = balance_catalogue.catalogue(sample).set_index("siret")
    assert sorted(catalogue.index) == sorted({r["ident"] for r in rows})
    for ident, row in catalogue.iterrows():
        raw = [r for r in rows if r["ident"] == ident]
        assert row["entity_name"] == row["budget_label"] == raw[0]["lbudg"]
        assert row["insee"] == raw[0]["ndept"][1:] + raw[0]["insee"]
        assert row["line_count"] == len(raw)
        assert (row["stage"], row["year"], row["source_format"], row["doc_key"]) == (
            "CA", 2024, "dgfip_balance", f"dgfip_{ident}_2024")
        # The row says what the document says.
        info = sample.document(str(ident), 2024).info
        assert (row["entity_type"], row["declinaison"], row["plan_year"]) == (
            info.entity_type, info.declinaison, info.plan_year)
    assert balance_catalogue.parse_key(f"dgfip_{CHAMBERY}_2024") == (CHAMBERY, 2024)


def test_a_published_ca_sets_the_balance_of_its_budget_year_apart(
        sample: BalanceStore) -> None:
    """A published CA of Chambéry 2024 (its catalogue row, as a TOTEM file would give it):
    the balance's row is set apart, the three others stay; a BP changes nothing."""
    balances = balance_catalogue.catalogue(sample)
    published = balances[balances["siret"] == CHAMBERY].assign(
        source_format="totem", doc_key=f"{CHAMBERY}_2024_CA")
    shown, apart = balance_catalogue.split(balances, published)
    assert list(apart["siret"]) == [CHAMBERY]
    assert sorted(shown["siret"]) == sorted({ANNECY, GRENOBLE, LYON})
    shown, apart = balance_catalogue.split(balances, published.assign(stage="BP"))
    assert apart.empty and len(shown) == 4


def test_each_chapter_against_the_region_median_quartiles_and_rank(
        sample: BalanceStore) -> None:
    """The four communes are in Auvergne-Rhône-Alpes: real income of chapter 13 is held by
    Grenoble (1318) and Chambéry (13462) only."""
    sums = real_by_chapter(raw_rows())
    people = history_2024()
    values = {siren: float(amount) / people[siren]
              for (siren, direction, chapter), amount in sums.items()
              if (direction, chapter) == ("recette", "13")}
    assert set(values) == {GRENOBLE[:9], CHAMBERY[:9]}
    q1, median, q3 = quartiles(list(values.values()))
    group = balance_peers.peers("region", GRENOBLE[:9], 2024)
    for siren, rank in ((GRENOBLE[:9], 1), (CHAMBERY[:9], 2)):
        [row] = balance_peers.placement(sample, 2024, siren, "recette", group).to_dict(
            "records")
        assert (row["chapter_code"], row["chapter_label"]) == ("13", "Subventions "
                                                                     "d'investissement")
        assert row["value"] == pytest.approx(values[siren], rel=1e-12)
        assert (row["q1"], row["median"], row["q3"]) == pytest.approx((q1, median, q3),
                                                                      rel=1e-12)
        assert (row["rank"], row["peers"]) == (rank, 2)
    # Chambéry's only real spending: 21318, obnetdeb − oobdeb, in chapter 21.
    [spent] = balance_peers.placement(sample, 2024, CHAMBERY[:9], "depense", group).to_dict(
        "records")
    assert spent["value"] * people[CHAMBERY[:9]] == pytest.approx(2573784.64)
    assert (spent["chapter_code"], spent["rank"], spent["peers"]) == ("21", 1, 1)


def test_quartiles_and_rank_among_more_peers(tmp_path: Path) -> None:
    """Grenoble's and Chambéry's real rows copied to the six largest other communes of the
    Isère (SIRENs and populations read from the shipped table here): eight communes of the
    département hold chapter 13, each at its own amount per inhabitant."""
    head, *lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    table = pd.read_csv(resources.files("budget_core.data").joinpath("population.csv.gz"),
                        dtype=str, compression="gzip")
    isere = table[(table["kind"] == "commune") & (table["departement"] == "38")]
    others = isere.assign(p=isere["population"].astype(int)).sort_values("p").iloc[-7:-1]
    sources = [li for li in lines if ";1318;" in li or ";13462;" in li]
    copies = []
    for number, (siren, insee) in enumerate(zip(others["siren"], others["insee"],
                                                strict=True)):
        line = sources[number % 2].split(";")
        line[1], line[9], line[2], line[4] = f"{siren}00011", siren, "038", insee[2:]
        copies.append(";".join(line))
    path = tmp_path / "isere.csv"
    path.write_text("\n".join([head, *lines, *copies]), encoding="utf-8")
    people = history_2024()
    with BalanceStore(tmp_path / "balances") as store:
        store.import_csv(path, "communes")
        rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter=";"))
        values = {siren: float(amount) / people[siren]
                  for (siren, direction, chapter), amount in real_by_chapter(rows).items()
                  if (direction, chapter) == ("recette", "13")
                  and siren in set(isere["siren"])}
        assert len(values) == 7
        group = balance_peers.peers("departement", GRENOBLE[:9], 2024)
        [row] = balance_peers.placement(store, 2024, GRENOBLE[:9], "recette",
                                        group).to_dict("records")
        ranked = sorted(values.values(), reverse=True)
        assert (row["rank"], row["peers"]) == (ranked.index(values[GRENOBLE[:9]]) + 1, 7)
        assert (row["q1"], row["median"], row["q3"]) == pytest.approx(
            quartiles(list(values.values())), rel=1e-12)
        listed = balance_peers.peers("custom", "", 2024, custom=[GRENOBLE[:9],
                                                                 *others["siren"][:2]])
        [row] = balance_peers.placement(store, 2024, GRENOBLE[:9], "recette",
                                        listed).to_dict("records")
        assert row["peers"] == 3
        maps = balance_peers.chapter_values(store, 2024, "13", "recette")
        medians = balance_peers.by_departement(maps).set_index("code")
        assert medians.loc["38", "value"] == pytest.approx(statistics.median(values.values()))
        assert medians.loc["38", "communes"] == 7
        assert medians.loc["73", "value"] == pytest.approx(3541.54 / people["217300656"])


def test_strate_of_the_years_population_and_ofgl_criteria(tmp_path: Path) -> None:
    people = history_2024()
    group = balance_peers.peers("strate", GRENOBLE[:9], 2024)
    assert people[GRENOBLE[:9]] >= 100_000
    # The population in force in 2024 where shipped, else the latest (a commune whose
    # territory changed since, as Saint-Denis (93) with Pierrefitte-sur-Seine in 2025).
    table = pd.read_csv(resources.files("budget_core.data").joinpath("population.csv.gz"),
                        dtype={"siren": str}, compression="gzip")
    communes = table[(table["kind"] == "commune") & table["population"].notna()]
    of_year = {siren: people.get(siren, latest) for siren, latest in
               zip(communes["siren"], communes["population"], strict=True)}
    expected = {siren for siren, p in of_year.items() if p >= 100_000}
    assert "929939411" in expected and "929939411" not in people
    assert set(group.sirens or ()) == expected
    missing = balance_peers.peers("mountain", GRENOBLE[:9], 2024)
    assert missing.sirens is None and "national --level communes --year 2024" in \
        missing.missing
    export = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"
    raw = pd.read_csv(export, sep=";", dtype=str, encoding="utf-8-sig")
    mountain = set(raw.loc[raw["Commune de montagne"] == "Oui", "Code Siren Collectivité"])
    with NationalStore(tmp_path / "national") as national:
        national.add_export("communes", export.read_bytes(), export.name)
        found = balance_peers.peers("mountain", "219711017", 2024, national)
        assert set(found.sirens or ()) == mountain and "219711017" in mountain
        assert "n'a pas cette information" in balance_peers.peers(
            "mountain", GRENOBLE[:9], 2024, national).missing


def test_an_export_received_whole_is_imported_and_its_work_file_removed(
        tmp_path: Path) -> None:
    with BalanceStore(tmp_path / "balances") as store:
        report = import_bytes(store, SAMPLE.read_bytes(), SAMPLE.name, "communes")
        assert (report.rows, report.years) == (len(raw_rows()), [2024])
        with pytest.raises(FormatError):
            import_bytes(store, b"pas;une;balance\n1;2;3\n", "autre.csv", "communes")
        assert not list(Path(tempfile.gettempdir()).glob("balances-*.csv"))
        assert store.years("communes") == [2024]  # the failed import changed nothing


def test_the_portal_is_found_in_the_registry(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUDGET_PORTALS", raising=False)
    assert portal_url(tmp_path) == "https://data.economie.gouv.fr"
    with pytest.raises(PortalError, match="aucun portail nommé"):
        portal_url(tmp_path, "absent")



def test_cli_peers_prints_what_the_page_shows(sample: BalanceStore, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(sample.folder.parent))
    monkeypatch.setenv("BUDGET_NATIONAL_DIR", str(tmp_path / "national"))
    people = history_2024()
    values = [float(amount) / people[siren]
              for (siren, direction, chapter), amount in real_by_chapter(raw_rows()).items()
              if (direction, chapter) == ("recette", "13")]
    assert main(["peers", GRENOBLE[:9], "--year", "2024", "--group", "region", "--sens",
                 "recette", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    [chapter] = answer["chapitres"]
    assert (chapter["chapitre"], chapter["rang"], chapter["communes"]) == ("13", 1, 2)
    assert chapter["mediane"] == pytest.approx(statistics.median(values))
    assert main(["peers", GRENOBLE[:9], "--year", "2024", "--group", "mountain"]) == 1
    assert "qui ne sont pas chargés" in capsys.readouterr().err
    assert main(["peers", GRENOBLE[:9], "--year", "2024", "--group", "voisins"]) == 1
    assert "Groupes possibles : strate" in capsys.readouterr().err


def counted_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every `BalanceStore.query` from now on, in order (the queries still run)."""
    queries: list[str] = []
    query = BalanceStore.query

    def counted(store: BalanceStore, sql: str, params: Sequence[object] = ()) -> Any:
        queries.append(sql)
        return query(store, sql, params)

    monkeypatch.setattr(BalanceStore, "query", counted)
    return queries


def test_placements_and_maps_of_a_year_read_the_aggregates_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every commune's € per inhabitant by chapter is one query a year (both directions):
    each placement computing its own took 0.5 to 3 s at the scale of France. What is left
    per commune is the plan of its nomenclature (chapter labels), one lookup in its rows."""
    queries = counted_queries(monkeypatch)
    with BalanceStore(tmp_path / "balances") as store:
        store.import_csv(SAMPLE, "communes")
        region = balance_peers.peers("region", GRENOBLE[:9], 2024)
        for siren in (GRENOBLE[:9], CHAMBERY[:9]):
            for direction in ("recette", "depense"):
                balance_peers.placement(store, 2024, siren, direction, region)
                balance_peers.placement(store, 2024, siren, direction,
                                        balance_peers.peers("all", siren, 2024))
        balance_peers.chapter_values(store, 2024, "13", "recette")
        assert queries.count(balance_peers.VALUES_SQL) == 1
        # Then each placement holding a chapter reads its labels' plan: 6 of the 8, as
        # Grenoble has no real spending in the sample.
        assert len(queries) == 1 + 6 and {q for q in queries if q != balance_peers.VALUES_SQL
                                          } == {balance_peers.LABELS_SQL}
        store.import_csv(SAMPLE, "communes")  # a new version of the year is read again
        queries.clear()
        balance_peers.chapter_values(store, 2024, "13", "recette")
        assert queries == [balance_peers.VALUES_SQL]


def moved(folder: Path, moves: dict[str, str]) -> tuple[Path, dict[str, tuple[str, str]]]:
    """The sample with each commune's rows (by SIREN) moved to another commune (by INSEE
    code) of the shipped table: the export's path, and for each INSEE code the commune's
    SIREN and population there."""
    table = pd.read_csv(resources.files("budget_core.data").joinpath("population.csv.gz"),
                        dtype=str, compression="gzip")
    communes = table[table["kind"] == "commune"].set_index("insee")
    to = {insee: (communes.at[insee, "siren"], communes.at[insee, "population"])
          for insee in moves.values()}
    head, *lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        fields = line.split(";")
        if fields[9] in moves:
            insee = moves[fields[9]]
            siren = to[insee][0]
            fields[1], fields[9] = f"{siren}00011", siren
            fields[2], fields[4] = insee[:-3].zfill(3), insee[-3:]
        out.append(";".join(fields))
    path = folder / "moved.csv"
    path.write_text("\n".join([head, *out]), encoding="utf-8")
    return path, to


def moved_to_a_commune_of_no_inhabitant(folder: Path) -> tuple[Path, str]:
    """The sample with Chambéry's rows moved to Fleury-devant-Douaumont (55189), a commune of
    population 0 in the shipped table (one of the Meuse's villages destroyed in 1916): the
    export's path and the commune's SIREN."""
    path, to = moved(folder, {CHAMBERY[:9]: "55189"})
    [(siren, population)] = to.values()
    assert population == "0"
    return path, siren


def test_a_commune_of_no_inhabitant_has_no_amount_per_inhabitant(tmp_path: Path) -> None:
    """Its amounts divided by 0 were infinite: the maps' and the peers' values held `inf`."""
    path, fleury = moved_to_a_commune_of_no_inhabitant(tmp_path)
    with BalanceStore(tmp_path / "balances") as store:
        store.import_csv(path, "communes")
        values = balance_peers.chapter_values(store, 2024, "13", "recette")
    assert fleury not in set(values["siren"])
    [grenoble] = values.loc[values["siren"] == GRENOBLE[:9], "value"]
    assert grenoble == pytest.approx(680_305.58 / history_2024()[GRENOBLE[:9]])
