"""DGFiP balances comptables: real rows, the rules that turn them into chapters, the store,
the CLI and the download by département against the local portal server.

Every figure is derived here from the raw CSV (csv module, Decimal) and from the shipped plan
file read with gzip + json, not through the code under test.

No real overlap with our TOTEM CAs: the only real balance rows available (20 rows, 2024:
Grenoble, Chambéry, Annecy, Lyon) are of budgets and a year for which the repository holds no
CA, and no public repository searched holds balance rows of Montreuil, Montpellier, Crach or
Mohon. The agreement of a CA and a balance by chapter is therefore not tested.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from budget_core.balance_budget import chapter_view
from budget_core.balance_csv import USED
from budget_core.balance_download import download
from budget_core.balances import BalanceStore
from budget_core.cli import main
from budget_core.errors import FormatError, PortalError
from budget_core.http import Http, make_session
from budget_core.linetable import LINE_SCHEMA
from budget_core.store import Store
from tests.conftest import FIXTURES
from tests.portal_server import PortalServer, running

SAMPLE = FIXTURES / "balances" / "balance-comptable-communes-2024_sample20.csv"
CHAMBERY, GRENOBLE = "21730065600014", "21380185500015"
DATASET = "balances-comptables-des-communes-en-2024"
EXPORT = f"/api/explore/v2.1/catalog/datasets/{DATASET}/exports/csv"
AMOUNTS = ("bedeb", "becre", "obnetdeb", "obnetcre", "onbdeb", "onbcre", "oobdeb", "oobcre",
           "sd", "sc")


def raw_rows(path: Path = SAMPLE) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def money(row: dict[str, str]) -> dict[str, Decimal]:
    return {name: Decimal(row[name]) for name in AMOUNTS}


def plan_accounts() -> dict[str, list[str]]:
    """The M57 développé plan 2024 as shipped: code → [code, label, DR, DOES, DOIS, RR, ROES,
    ROIS] (read from the file, not through budget_core.nomenclature)."""
    data = resources.files("budget_core.data.plans").joinpath("M57_D_2024.json.gz").read_bytes()
    return {row[0]: row for row in json.loads(gzip.decompress(data))["accounts"]}


def expected_lines(rows: list[dict[str, str]]) -> set[tuple[str, str, str, str, Decimal]]:
    """(compte, reel/ordre, depense/recette, chapter, amount) by the documented rules: real =
    obnet − oob, order = oob; DR/RR chapters for real, DOES/ROES else DOIS/ROIS for order."""
    accounts = plan_accounts()
    out = set()
    for row in rows:
        account = accounts[row["compte"]]  # every account of the sample is in the plan
        amounts = money(row)
        for kind, direction, amount, chapter in (
                ("reel", "depense", amounts["obnetdeb"] - amounts["oobdeb"], account[2]),
                ("reel", "recette", amounts["obnetcre"] - amounts["oobcre"], account[5]),
                ("ordre", "depense", amounts["oobdeb"], account[3] or account[4]),
                ("ordre", "recette", amounts["oobcre"], account[6] or account[7])):
            if chapter and amount:
                out.add((row["compte"], kind, direction, chapter, amount))
    return out


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BalanceStore]:
    with BalanceStore(tmp_path / "balances") as store:
        yield store


@pytest.fixture
def sample(store: BalanceStore) -> BalanceStore:
    store.import_csv(SAMPLE, "communes")
    return store


def test_every_real_row_satisfies_the_balance_identity(sample: BalanceStore) -> None:
    rows = raw_rows()
    for row in rows:
        m = money(row)
        assert m["sd"] - m["sc"] == (m["bedeb"] - m["becre"] + m["obnetdeb"] - m["obnetcre"]
                                     + m["onbdeb"] - m["onbcre"])
    stored = sample.query("SELECT count(*) AS n, count(*) FILTER (WHERE balanced) AS ok "
                          "FROM balances")
    assert (stored["n"][0], stored["ok"][0]) == (len(rows), 20)


def test_codes_stay_text_and_amounts_exact(sample: BalanceStore) -> None:
    stored = sample.budget_rows(CHAMBERY, 2024).set_index("compte")
    raw = {r["compte"]: r for r in raw_rows() if r["ident"] == CHAMBERY}
    assert sorted(stored.index) == sorted(raw)
    assert (stored.loc["21318", "ndept"], stored.loc["21318", "insee"]) == ("073", "065")
    for compte, row in raw.items():
        for name, value in money(row).items():
            assert stored.loc[compte, name] == value
    assert stored.loc["21318", "sd"] == Decimal("250303591.11")


def test_real_and_order_amounts_and_chapters_follow_the_plan(sample: BalanceStore) -> None:
    for ident in {r["ident"] for r in raw_rows()}:
        document = sample.document(ident, 2024)
        got = {(r.nature_code, r.operation_kind, r.direction, r.chapter_code, r.amount)
               for r in document.lines.itertuples()}
        assert got == expected_lines([r for r in raw_rows() if r["ident"] == ident])
    chambery = sample.document(CHAMBERY, 2024).lines.set_index(
        ["nature_code", "operation_kind", "direction"])
    # 21318: obnetdeb 2 648 255,24 of which oobdeb 74 470,60 are order operations.
    assert chambery.loc[("21318", "reel", "depense"), "amount"] == Decimal("2573784.64")
    assert chambery.loc[("21318", "ordre", "depense"), "chapter_code"] == "040"
    grenoble = sample.document(GRENOBLE, 2024).lines
    # 2111: obnetcre = oobcre = 84 131,13, an order operation only (a sale's book value).
    assert grenoble[grenoble["nature_code"] == "2111"][
        ["operation_kind", "chapter_code", "amount"]].values.tolist() == [
        ["ordre", "040", Decimal("84131.13")]]
    # 437 and 44382 (third parties, classes 4) belong to no budget chapter.
    assert not set(grenoble["nature_code"]) & {"437", "44382", "4722"}


def test_a_balance_budget_is_a_canonical_ca_document(sample: BalanceStore) -> None:
    document = sample.document(CHAMBERY, 2024)
    info = document.info
    assert list(document.lines.columns) == LINE_SCHEMA.names
    assert (info.stage, info.source_format, info.budget_kind, info.entity_type, info.insee,
            info.entity_name, info.declinaison) == (
        "CA", "dgfip_balance", "principal", "commune", "73065", "CHAMBERY", "M57_D")
    assert set(document.lines["section"]) == {"investissement"}
    assert document.warnings == []


def test_the_stored_chapter_totals_equal_each_documents_chapter_view(
        sample: BalanceStore) -> None:
    stored = sample.query("SELECT * FROM chapters")
    for ident in {r["ident"] for r in raw_rows()}:
        view = chapter_view(sample.document(ident, 2024).lines)
        mine = stored[stored["ident"] == ident]
        assert sorted(zip(mine["direction"], mine["chapter_code"], mine["real_amount"],
                          mine["order_amount"], strict=True)) == sorted(
            zip(view["direction"], view["code"], view["real"], view["order"], strict=True))


def test_a_row_breaking_the_identity_is_counted_listed_and_never_used(
        store: BalanceStore, tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    line = next(li for li in text.splitlines() if ";21318;" in li)
    broken = tmp_path / "broken.csv"  # Chambéry 21318 with a closing balance 1 € off
    broken.write_text(text.replace(line, line.replace("250303591.11", "250303592.11")),
                      encoding="utf-8")
    report = store.import_csv(broken, "communes")
    assert (report.rows, report.broken) == (20, 1)
    assert report.broken_rows == [f"2024 {CHAMBERY} compte 21318"]
    assert "1 ligne(s) ne vérifient pas" in report.french()
    document = store.document(CHAMBERY, 2024)
    assert "21318" not in set(document.lines["nature_code"])
    assert "21318 (sd − sc = 250303592.11)" in document.warnings[0]
    chapters = store.query("SELECT chapter_code FROM chapters WHERE ident = ?", [CHAMBERY])
    assert "21" not in set(chapters["chapter_code"])  # 21318 was its only chapter-21 account


@pytest.mark.parametrize(("change", "named"), [
    (lambda h: h + ";fonction", "colonnes inconnues : fonction"),
    (lambda h: h.replace(";oobdeb", ""), "colonnes manquantes : oobdeb"),
])
def test_an_unknown_header_is_refused_naming_its_columns(store: BalanceStore, tmp_path: Path,
                                                         change: Callable[[str], str],
                                                         named: str) -> None:
    head, rest = SAMPLE.read_text(encoding="utf-8").split("\n", 1)
    path = tmp_path / "other.csv"
    path.write_text(change(head) + "\n" + rest, encoding="utf-8")
    with pytest.raises(FormatError, match=named):
        store.import_csv(path, "communes")
    assert store.years("communes") == []


def test_the_2010_2015_budget_column_and_numeric_codes(store: BalanceStore,
                                                       tmp_path: Path) -> None:
    """Before 2016 the budget type is `budget` (BP); `insee` may come as a number."""
    head, *rows = SAMPLE.read_text(encoding="utf-8").splitlines()
    old = [r.replace("2024;", "2015;", 1).replace(";065;1;", ";65;BP;") for r in rows]
    path = tmp_path / "old.csv"
    path.write_text("\n".join([head.replace(";cbudg;", ";budget;"), *old]), encoding="utf-8")
    store.import_csv(path, "communes")
    rows_2015 = store.budget_rows(CHAMBERY, 2015)
    assert set(rows_2015["cbudg"]) == {"1"} and set(rows_2015["insee"]) == {"065"}


def test_a_reimport_replaces_the_year(sample: BalanceStore, tmp_path: Path) -> None:
    head, *rows = SAMPLE.read_text(encoding="utf-8").splitlines()
    part = tmp_path / "part.csv"
    part.write_text("\n".join([head, *rows[:5]]), encoding="utf-8")
    assert sample.import_csv(part, "communes").rows == 5
    assert sample.query("SELECT count(*) AS n FROM balances")["n"][0] == 5
    assert sample.principal("217300656", 2024) is None  # Chambéry was in the other rows


def test_cli_import_and_chapters_from_the_balances(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path))
    assert main(["balances", "import", str(SAMPLE)]) == 0
    assert "20 lignes de balance" in capsys.readouterr().out
    assert main(["chapters", "217300656", "--year", "2024", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["siret"], answer["source"]) == (CHAMBERY, "balances")
    by_code = {(c["sens"], c["code"]): c for c in answer["chapitres"]}
    assert by_code[("depense", "21")]["reel"] == "2573784.64"
    assert by_code[("depense", "21")]["section"] == "investissement"
    assert by_code[("recette", "040")]["ordre"] == str(Decimal("114851.76") + Decimal("3251.0"))


def test_cli_chapters_prefers_the_document_store(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Montreuil's CA 2022 is in the embedded demo store: it answers, not the balances."""
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path))
    assert main(["chapters", "219300480", "--year", "2022", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["source"] == "documents" and answer["siret"] == "21930048000015"
    assert main(["chapters", "219300480", "--year", "2031"]) == 1
    assert "ni dans les documents ni dans les balances" in capsys.readouterr().err


def test_cli_chapters_names_its_source_and_the_balance_held_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A published CA of Chambéry 2024 in the store (its balance's own lines under a TOTEM
    file's name, as the pages' test builds it: no real CA of a budget-year the real rows
    cover exists) and its balance in the cache: the CA answers, named, and the answer says
    the balance is there too and is not counted."""
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path))
    assert main(["balances", "import", str(SAMPLE)]) == 0
    with BalanceStore(tmp_path / "balances") as balances:
        document = balances.document(CHAMBERY, 2024)
    document.info = dataclasses.replace(document.info, source_format="totem",
                                        source_file="chambery_CA_2024.xml")
    Store(tmp_path / "store").add([document])
    monkeypatch.setenv("BUDGET_DATA_DIR", str(tmp_path / "store"))
    capsys.readouterr()
    assert main(["chapters", "217300656", "--year", "2024", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["source"], answer["detail"]) == ("documents", "CA 2024, chambery_CA_2024.xml")
    assert answer["aussi"].startswith("la balance comptable DGFiP (comptes de gestion) de ce "
                                      "budget pour 2024 est aussi en cache")
    assert main(["chapters", "217300656", "--year", "2024"]) == 0
    assert "(la balance comptable DGFiP" in capsys.readouterr().out
    assert main(["chapters", "21380185500015", "--year", "2024", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["source"], answer["aussi"]) == ("balances", "")


@pytest.fixture
def server() -> Iterator[PortalServer]:
    for server in running():
        server.ods_tables[DATASET] = SAMPLE.read_bytes()
        yield server


def test_download_by_departement_with_select_where_and_resume(
        store: BalanceStore, server: PortalServer) -> None:
    http = Http(make_session(retries=0), timeout=10)
    server.faults[EXPORT] = ["", "truncate"]  # the second part is cut mid-transfer
    with pytest.raises(PortalError, match="interrompu"):
        download(store, http, server.url, "communes", 2024)
    assert store.years("communes") == []  # nothing published from a partial year
    asked = [r for r in server.requests if EXPORT in r]
    assert len(asked) == 2
    report = download(store, http, server.url, "communes", 2024)
    again = [r for r in server.requests if EXPORT in r][2:]
    assert len(again) == 3  # 038 was kept: only the three missing parts
    assert all("ndept%3D%22" in r or 'ndept="' in r for r in again)
    header = SAMPLE.read_text(encoding="utf-8").split("\n", 1)[0].split(";")
    used = [c for c in header if c in USED]  # the 22 read, of 28 published
    assert len(used) == 22 and all("select=" + "%2C".join(used) + "&" in r for r in again)
    assert report.parts == ["038", "069", "073", "074"] and report.rows == 20
    assert store.years("communes") == [2024]
    assert store.document(CHAMBERY, 2024).lines["amount"].sum() == sum(
        a for *_, a in expected_lines([r for r in raw_rows() if r["ident"] == CHAMBERY]))


def test_a_part_over_the_size_cap_is_refused_and_not_kept(store: BalanceStore,
                                                          server: PortalServer) -> None:
    http = Http(make_session(retries=0), timeout=10, max_bytes=500)
    with pytest.raises(PortalError, match="trop volumineux"):
        download(store, http, server.url, "communes", 2024, departements=["073"])
    assert not list((store.folder / "_parts").rglob("*.parquet"))


def test_cli_download_one_departement(tmp_path: Path, server: PortalServer,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path))
    assert main(["balances", "download", "--year", "2024", "--departement", "038",
                 "--portal", server.url]) == 0
    assert "5 lignes de balance" in capsys.readouterr().out
    with BalanceStore(tmp_path / "balances") as store:
        assert store.principal("213801855", 2024) == GRENOBLE
        assert store.principal("217300656", 2024) is None


def test_a_balance_document_goes_into_the_document_store_unchanged(
        sample: BalanceStore, tmp_path: Path) -> None:
    """What the app's pages read: the store takes the document as it takes a TOTEM CA."""
    document = sample.document(CHAMBERY, 2024)
    store = Store(tmp_path / "store")
    assert store.add([document]) == 1
    lines = store.lines([CHAMBERY], [2024], ["CA"])
    assert lines["amount"].sum() == document.lines["amount"].sum() == sum(
        a for *_, a in expected_lines([r for r in raw_rows() if r["ident"] == CHAMBERY]))
    assert store.documents()["source_format"].tolist() == ["dgfip_balance"]


def test_a_departement_code_from_the_portal_never_names_a_path(store: BalanceStore,
                                                              server: PortalServer) -> None:
    http = Http(make_session(retries=0), timeout=10)
    with pytest.raises(PortalError, match="refusé"):
        download(store, http, server.url, "communes", 2024, departements=["../x"])
    assert not (store.folder / "_parts").exists()


def test_the_folder_reads_as_one_hive_table_in_another_engine(sample: BalanceStore) -> None:
    """pyarrow's dataset reader, like Spark, takes `level=`/`year=` from the folder names
    and skips folders starting with `_` or `.`: the layout needs no conversion."""
    [part] = (sample.folder / "level=communes" / "year=2024").iterdir()
    assert not {"level", "year"} & set(pq.read_schema(part).names)
    table = ds.dataset(sample.folder, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == len(raw_rows())
    assert set(table["year"].to_pylist()) == {2024}
    assert set(table["level"].to_pylist()) == {"communes"}


def test_the_download_asks_only_for_the_fields_a_year_declares(store: BalanceStore,
                                                                server: PortalServer) -> None:
    """Before 2016 the budget type is `budget`, and `categ` does not exist before 2017:
    asking an absent field would fail the export, so the select follows the dataset."""
    head, *rows = SAMPLE.read_text(encoding="utf-8").splitlines()
    old_head = head.replace(";cbudg;", ";budget;").replace(";categ;", ";")
    old_rows = [r.replace("2024;", "2015;", 1).replace(";1;101;", ";BP;101;")
                .replace(";Commune;", ";") for r in rows]
    server.ods_tables["balances-comptables-des-communes-en-2015"] = "\n".join(
        [old_head, *old_rows]).encode()
    http = Http(make_session(retries=0), timeout=10)
    report = download(store, http, server.url, "communes", 2015, departements=["073"])
    [asked] = [r for r in server.requests if "en-2015/exports/csv" in r]
    assert "budget" in asked and "cbudg" not in asked and "categ" not in asked
    assert report.rows == 5
    assert store.principal("217300656", 2015) == CHAMBERY
