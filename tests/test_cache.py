"""The local cache against a local portal: conditional GET, faults, corrupt files, resume, lock."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from budget_core.cache import Cache, SyncFilter
from budget_core.errors import CacheError
from budget_core.formats import read_documents
from budget_core.http import Http, make_session
from budget_core.sources.base import PublishedResource
from budget_core.sources.geonetwork import GeonetworkSource
from budget_core.sources.udata import UdataSource
from tests.conftest import FIXTURES, TOTEM
from tests.portal_server import PortalServer, running

FILES = {"crach_principal_CA_2021.xml": TOTEM / "crach_principal_CA_2021.xml",
         "crach_lotissement_BP_2022.xml": TOTEM / "crach_lotissement_BP_2022.xml",
         "mohon_CFU_2023.xml": TOTEM / "mohon_CFU_2023.xml",
         "morbihan_CA_2021.csv": FIXTURES / "scdl_expected" / "morbihan_CA_2021.csv"}


@pytest.fixture
def server() -> Iterator[PortalServer]:
    for server in running():
        for name, path in FILES.items():
            server.publish(name, path.read_bytes())
        server.publish("notice.pdf", b"%PDF-1.4")
        server.udata_files = list(FILES)
        yield server


@pytest.fixture
def http() -> Http:
    return Http(make_session(retries=2, backoff=0.05), timeout=1.5)


def udata(server: PortalServer) -> UdataSource:
    return UdataSource("data.gouv.fr", server.url, queries=[], page_size=10)


def raw_files(cache: Cache) -> list[Path]:
    return sorted(p for p in cache.raw_dir.rglob("*") if p.is_file())


def test_first_sync_downloads_parses_and_catalogues(tmp_path: Path, server: PortalServer,
                                                    http: Http) -> None:
    cache = Cache(tmp_path)
    summary = cache.sync([udata(server)], http)
    assert (len(summary.new), summary.failed) == (4, [])
    catalogue = cache.resources()
    assert set(catalogue["status"]) == {"ok"}
    assert catalogue["etag"].str.len().gt(0).all()
    # the publisher's SIREN, from its organisation's record, asked once for the four files
    assert set(catalogue["siren"]) == {"215600461"}
    assert server.hits["/api/1/organizations/646b7187b50b2a93b1ae3d45/"] == 1
    documents = cache.store.documents()
    assert sorted(documents["source_file"]) == sorted(FILES)
    assert len(raw_files(cache)) == 4
    # the stored lines are the document's: Mohon CFU, 163 budget lines
    mohon = cache.store.lines(["21560134500014"], [2023], ["CFU"])
    assert len(mohon) == 163


def test_second_sync_asks_conditionally_and_parses_nothing(tmp_path: Path,
                                                           server: PortalServer,
                                                           http: Http) -> None:
    cache = Cache(tmp_path)
    cache.sync([udata(server)], http)
    before = cache.store.catalogue_path.stat().st_mtime_ns
    summary = cache.sync([udata(server)], http)
    assert (len(summary.unchanged), summary.new, summary.updated) == (4, [], [])
    assert sum(server.not_modified.values()) == 4  # four real 304 answers
    assert cache.store.catalogue_path.stat().st_mtime_ns == before


def test_a_changed_file_is_downloaded_and_replaces_its_budget(tmp_path: Path,
                                                              server: PortalServer,
                                                              http: Http) -> None:
    cache = Cache(tmp_path)
    cache.sync([udata(server)], http)
    # The portal republishes the lotissement's BP with another amount.
    old = server.files["crach_lotissement_BP_2022.xml"]
    server.files["crach_lotissement_BP_2022.xml"] = old.replace(
        b'<MtPrev V="15000.00"/>', b'<MtPrev V="15500.00"/>', 1)
    summary = cache.sync([udata(server)], http)
    assert summary.updated == [f"{server.url}/files/crach_lotissement_BP_2022.xml"]
    lines = cache.store.lines(["21560046100085"], [2022], ["BP"])
    assert str(lines.loc[lines["nature_code"] == "6045", "mt_prev"].iloc[0]) == "15500.00"
    assert len(cache.store.documents()) == 4  # replaced, not added


def test_server_error_then_success_is_retried(tmp_path: Path, server: PortalServer,
                                              http: Http) -> None:
    server.faults["/files/mohon_CFU_2023.xml"] = ["500"]
    summary = Cache(tmp_path).sync([udata(server)], http)
    assert summary.failed == []
    assert server.hits["/files/mohon_CFU_2023.xml"] == 2


def test_429_retry_after_is_honoured(tmp_path: Path, server: PortalServer, http: Http) -> None:
    server.faults["/files/mohon_CFU_2023.xml"] = ["429"]
    started = time.monotonic()
    summary = Cache(tmp_path).sync([udata(server)], http)
    assert summary.failed == []
    assert time.monotonic() - started >= 1.0  # Retry-After: 1


def test_timeout_keeps_the_last_good_copy(tmp_path: Path, server: PortalServer,
                                          http: Http) -> None:
    cache = Cache(tmp_path)
    cache.sync([udata(server)], http)
    server.files["mohon_CFU_2023.xml"] += b"<!-- changed -->"
    server.faults["/files/mohon_CFU_2023.xml"] = ["slow"] * 3  # 1.5 s each, 3 tries
    impatient = Http(make_session(retries=2, backoff=0.05), timeout=0.5)
    summary = cache.sync([udata(server)], impatient)
    [(url, reason)] = summary.failed
    assert url.endswith("mohon_CFU_2023.xml") and "pas de réponse" in reason
    row = cache.resources().set_index("title").loc["mohon_CFU_2023.xml"]
    assert row["status"] == "failed" and row["sha256"]  # previous hash kept
    assert len(cache.store.lines(["21560134500014"], [2023], ["CFU"])) == 163
    assert not list(cache.tmp_dir.glob("*"))


def test_truncated_body_is_never_kept(tmp_path: Path, server: PortalServer,
                                      http: Http) -> None:
    server.faults["/files/mohon_CFU_2023.xml"] = ["truncate"] * 3
    cache = Cache(tmp_path)
    summary = cache.sync([udata(server)], http)
    [(url, reason)] = summary.failed
    assert url.endswith("mohon_CFU_2023.xml") and "incomplet" in reason
    assert len(raw_files(cache)) == 3 and not list(cache.tmp_dir.glob("*"))
    assert "21560134500014" not in set(cache.store.documents()["siret"])


def test_corrupt_file_is_kept_out_with_its_error(tmp_path: Path, server: PortalServer,
                                                 http: Http) -> None:
    data = server.files["crach_principal_CA_2021.xml"]
    server.files["crach_principal_CA_2021.xml"] = data[: len(data) // 3]
    cache = Cache(tmp_path)
    summary = cache.sync([udata(server)], http)
    assert len(summary.failed) == 1 and "XML mal formé" in summary.failed[0][1]
    row = cache.resources().set_index("title").loc["crach_principal_CA_2021.xml"]
    assert row["status"] == "parse_error" and "crach_principal_CA_2021.xml" in row["error"]
    assert len(raw_files(cache)) == 3


def test_same_file_from_two_portals_is_one_resource_with_two_origins(
        tmp_path: Path, server: PortalServer, http: Http) -> None:
    server.geonetwork_files = ["mohon_CFU_2023.xml"]
    grand_est = GeonetworkSource("DataGrandEst", f"{server.url}/geonetwork")
    cache = Cache(tmp_path)
    cache.sync([udata(server), grand_est], http)
    row = cache.resources().set_index("title").loc["mohon_CFU_2023.xml"]
    assert row["origins"] == '["data.gouv.fr", "DataGrandEst"]'
    assert server.hits["/files/mohon_CFU_2023.xml"] == 1


def test_geonetwork_records_of_both_index_shapes_are_synced(
        tmp_path: Path, server: PortalServer, http: Http) -> None:
    """The second record is in GeoNetwork 4.0's shape: its file's URL has no extension."""
    server.geonetwork_files = ["mohon_CFU_2023.xml", "crach_lotissement_BP_2022.xml"]
    cache = Cache(tmp_path)
    summary = cache.sync([GeonetworkSource("DataGrandEst", f"{server.url}/geonetwork")],
                         http)
    assert (len(summary.new), summary.failed) == (2, [])
    assert f"{server.url}/telechargement/crach_lotissement_BP_2022" in summary.new
    rows = cache.resources().set_index("title")
    assert rows.loc["crach_lotissement_BP_2022.xml", "format"] == "xml"
    assert sorted(cache.store.documents()["source_file"]) == [  # named as its URL names it
        "crach_lotissement_BP_2022", "mohon_CFU_2023.xml"]


def test_interrupted_sync_resumes(tmp_path: Path, server: PortalServer, http: Http) -> None:
    cache = Cache(tmp_path)

    def stop_after_two(number: int, total: int, resource: object) -> None:
        if number == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.sync([udata(server)], http, progress=stop_after_two)
    assert len(cache.resources()) == 2 and len(cache.store.documents()) == 2
    summary = cache.sync([udata(server)], http)
    assert (len(summary.unchanged), len(summary.new)) == (2, 2)
    assert len(cache.store.documents()) == 4


def test_filters_keep_only_matching_documents(tmp_path: Path, server: PortalServer,
                                              http: Http) -> None:
    cache = Cache(tmp_path)
    cache.sync([udata(server)], http, only=SyncFilter(year=2021))
    assert set(cache.store.documents()["year"]) == {2021}
    cache2 = Cache(tmp_path / "bretagne")
    cache2.sync([udata(server)], http, only=SyncFilter(region="53", entity_type="commune"))
    assert set(cache2.store.documents()["entity_name"]) == {"CRACH",
                                                            "COMMUNE DE MOHON (M57)"}


def test_a_second_sync_on_the_same_cache_is_refused(tmp_path: Path, server: PortalServer,
                                                    http: Http) -> None:
    cache = Cache(tmp_path)
    with cache.lock(), pytest.raises(CacheError, match="déjà en cours"):
        cache.sync([udata(server)], http)


def test_failing_portal_does_not_stop_the_others(tmp_path: Path, server: PortalServer,
                                                 http: Http) -> None:
    server.geonetwork_files = ["mohon_CFU_2023.xml"]
    server.faults["/api/1/datasets/"] = ["500"] * 5
    summary = Cache(tmp_path).sync(
        [udata(server), GeonetworkSource("DataGrandEst", f"{server.url}/geonetwork")], http)
    assert summary.failed[0][0] == "portail data.gouv.fr"
    assert summary.new == [f"{server.url}/files/mohon_CFU_2023.xml"]


def test_same_file_under_two_urls_is_kept_once_with_both_origins(
        tmp_path: Path, server: PortalServer, http: Http) -> None:
    server.publish("copie_mohon.xml", server.files["mohon_CFU_2023.xml"])
    server.geonetwork_files = ["copie_mohon.xml"]
    cache = Cache(tmp_path)
    cache.sync([udata(server), GeonetworkSource("DataGrandEst", f"{server.url}/geonetwork")],
               http)
    rows = cache.resources().set_index("title")
    assert rows.loc["copie_mohon.xml", "status"] == "duplicate"
    assert rows.loc["mohon_CFU_2023.xml", "origins"] == '["data.gouv.fr", "DataGrandEst"]'
    assert len(raw_files(cache)) == 4


class OneResource:
    """A portal listing one resource with a hostile URL and title."""

    name = "hostile"

    def __init__(self, resource: PublishedResource) -> None:
        self.resource = resource
        self.problems: list[str] = []

    def resources(self, http: Http) -> Iterator[PublishedResource]:
        yield self.resource


def test_dot_dot_in_a_portal_url_never_escapes_the_cache(tmp_path: Path, server: PortalServer,
                                                         http: Http) -> None:
    server.publish("..%2F..%2Fevil.xml", server.files["mohon_CFU_2023.xml"])
    hostile = PublishedResource(
        source="hostile", dataset_id="../../d", dataset_title="../../", resource_id="../../r",
        url=f"{server.url}/files/..%2F..%2Fevil.xml", format="xml", title="../../../evil.xml")
    before = set(tmp_path.rglob("*"))
    cache = Cache(tmp_path / "cache")
    summary = cache.sync([OneResource(hostile)], http)
    assert len(summary.new) == 1
    created = set(tmp_path.rglob("*")) - before
    assert created and all(p.is_relative_to(tmp_path / "cache") for p in created)
    [raw] = raw_files(cache)
    assert raw.parent.parent == cache.raw_dir and len(raw.name) == 64


def test_redirect_to_a_local_file_is_not_followed(tmp_path: Path, server: PortalServer,
                                                  http: Http) -> None:
    server.faults["/files/mohon_CFU_2023.xml"] = ["redirect_file"]
    cache = Cache(tmp_path)
    summary = cache.sync([udata(server)], http)
    [(url, reason)] = summary.failed
    assert url.endswith("mohon_CFU_2023.xml") and "seules les adresses http et https" in reason
    assert all(b"root:" not in p.read_bytes() for p in raw_files(cache))


# Mégalis Bretagne publishes one SCDL CSV a year for all its members (opendata-extraction,
# `generation_and_publication_SCDL`, megalis-bretagne/opendata-extraction @ 9b9871fc): one
# header, then each budget act's rows appended as its converter wrote them, without a header
# (`xmlcsv2csv.py` never writes one: `header` is not among the tags it iterates). No such
# file is public in a repository; this one is built the same way from the real SCDL CSVs of
# three Breton documents of 2022, two of them the same budget (Crach's lotissement: BP, DM1).
MEGALIS_2022 = ("crach_lotissement_BP_2022.csv", "crach_lotissement_DM1_2022.csv",
                "saint_malo_agglo_transport_BP_2022.csv")


def _raw_rows(name: str) -> list[dict[str, str]]:
    """The rows of a real SCDL CSV, read with the csv module alone."""
    text = (FIXTURES / "scdl_expected" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_yearly_file_of_several_collectivities_gives_one_document_per_budget(
        tmp_path: Path, server: PortalServer, http: Http) -> None:
    parts = [(FIXTURES / "scdl_expected" / name).read_text(encoding="utf-8")
             for name in MEGALIS_2022]
    header = parts[0].splitlines()[0]
    assert all(part.splitlines()[0] == header for part in parts)
    yearly = header + "\n" + "".join(part.split("\n", 1)[1] for part in parts)
    server.publish("BUDGET-2022.csv", yearly.encode("utf-8"))
    server.udata_files = ["BUDGET-2022.csv"]
    cache = Cache(tmp_path)
    summary = cache.sync([udata(server)], http)
    assert (len(summary.new), summary.failed) == (1, [])
    stored = cache.store.documents().sort_values(["siret", "stage"])
    expected = []
    for name in MEGALIS_2022:
        rows = _raw_rows(name)
        [(siret, year, natdec)] = {(r["BGT_SIRET"], r["BGT_ANNEE"], r["BGT_NATDEC"])
                                   for r in rows}
        expected.append((siret, int(year), natdec, len(rows),
                         sum(Decimal(r["BGT_MTPREV"] or "0") for r in rows)))
    assert [(siret, year) for siret, year, *_ in expected] == [
        ("21560046100085", 2022), ("21560046100085", 2022), ("24350078200095", 2022)]
    got = []
    for row in stored.itertuples():
        lines = cache.store.document_lines([row.doc_key])
        got.append((row.siret, row.year, row.stage, len(lines), lines["mt_prev"].sum()))
    stages = {"Budget primitif": "BP", "Décision modificative": "DM"}
    assert got == [(siret, year, stages[natdec], count, total)
                   for siret, year, natdec, count, total in expected]
    # SCDL rows carry no decision number: the DM says it was read without one
    raw = cache.raw_path(str(stored["source_sha256"].iloc[0]))
    [dm] = [d for d in read_documents(raw, name="BUDGET-2022.csv") if d.info.stage == "DM"]
    assert "le format ne donne pas le numéro de la décision" in " ".join(dm.warnings)
