"""A hostile or broken portal against the real HTTP client and sync, on 127.0.0.1.

Each case comes from the second hardening round (issue « Hardening, second round »): the
attack as it was tried, the behaviour SECURITY.md promises. The portal is the local server of
tests/portal_server.py, serving real payload shapes with the fault injected.
"""

from __future__ import annotations

import hashlib
import resource
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from budget_core.cache import Cache
from budget_core.cli import main
from budget_core.errors import PortalError
from budget_core.http import Http, is_public, make_session, parse_checksum
from budget_core.sources.ckan import CkanSource
from budget_core.sources.opendatasoft import OpendatasoftSource
from budget_core.sources.udata import UdataSource
from tests.conftest import FIXTURES, TOTEM
from tests.portal_server import PortalServer, gzip_bomb, running

MOHON = "mohon_CFU_2023.xml"


@pytest.fixture
def server() -> Iterator[PortalServer]:
    yield from running()


@pytest.fixture
def portal(server: PortalServer) -> PortalServer:
    server.publish(MOHON, (TOTEM / MOHON).read_bytes())
    server.udata_files = [MOHON]
    return server


def quick(**limits: Any) -> Http:
    return Http(make_session(retries=0, backoff=0.01), timeout=2, **limits)


# -- addresses -------------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
                                     "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
                                     "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                                     "::ffff:169.254.169.254"])
def test_non_public_addresses(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "193.17.192.1", "2001:4860:4860::8888"])
def test_public_addresses(address: str) -> None:
    assert is_public(address)


def test_loopback_is_refused_unless_allowed(portal: PortalServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_ALLOWED_PRIVATE_HOSTS", "")
    with pytest.raises(PortalError, match=r"adresse refusée : 127\.0\.0\.1 mène à 127\.0\.0\.1"):
        quick().json("GET", f"{portal.url}/api/1/datasets/")
    assert portal.hits["/api/1/datasets/"] == 0  # refused before any request was sent


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/",
                                    "http://10.20.30.40:8080/admin",
                                    "http://[::1]:9/", "http://127.0.0.1:{port}/files/"
                                    + MOHON])
def test_a_redirect_to_a_private_address_is_refused_at_that_hop(portal: PortalServer,
                                                                 tmp_path: Path,
                                                                 target: str) -> None:
    # The portal itself is allowed by name (`localhost`), the address it redirects to is not.
    port = portal.url.rsplit(":", 1)[1]
    portal.redirect_target = target.format(port=port)
    portal.faults[f"/files/{MOHON}"] = ["redirect"]
    http = Http(make_session(retries=0, allowed_hosts=["localhost"]), timeout=2)
    started = time.monotonic()
    with pytest.raises(PortalError, match="adresse refusée"):
        http.download(f"http://localhost:{port}/files/{MOHON}", tmp_path)
    assert time.monotonic() - started < 2  # refused before connecting: nothing was waited for
    assert list(tmp_path.iterdir()) == []


def test_a_payload_url_to_a_private_address_is_never_fetched(portal: PortalServer,
                                                             tmp_path: Path) -> None:
    with pytest.raises(PortalError, match="adresse refusée"):
        Http(make_session(retries=0, allowed_hosts=[]), timeout=2).download(
            "http://169.254.169.254/latest/meta-data/iam", tmp_path)


# -- deadlines and sizes ------------------------------------------------------------------------
def test_a_dripping_api_answer_stops_at_the_deadline(portal: PortalServer) -> None:
    portal.faults["/api/1/datasets/"] = ["drip"]
    started = time.monotonic()
    with pytest.raises(PortalError, match="pas de réponse complète en 2 s"):
        quick(api_deadline=1.5).json("GET", f"{portal.url}/api/1/datasets/")
    assert time.monotonic() - started < 5  # one byte every 0.2 s never fires the 2 s timeout


def test_a_dripping_download_stops_at_the_deadline(portal: PortalServer,
                                                   tmp_path: Path) -> None:
    portal.faults[f"/files/{MOHON}"] = ["drip"]
    started = time.monotonic()
    with pytest.raises(PortalError, match="pas de réponse complète"):
        quick(download_deadline=1.5).download(f"{portal.url}/files/{MOHON}", tmp_path)
    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []


def test_an_endless_api_answer_is_cut_at_the_size_cap(portal: PortalServer) -> None:
    portal.faults["/api/1/datasets/"] = ["endless"]
    with pytest.raises(PortalError, match="réponse trop volumineuse"):
        quick(max_api_bytes=2_000_000).json("GET", f"{portal.url}/api/1/datasets/")


def test_a_gzip_bomb_is_cut_after_decompression_in_bounded_memory(
        portal: PortalServer) -> None:
    portal.faults["/api/1/datasets/"] = ["gzip_bomb"]  # 1 GB of zeros in about 1 MB
    gzip_bomb()  # compressed before the clock of the request starts
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(PortalError, match="réponse trop volumineuse"):
        quick().json("GET", f"{portal.url}/api/1/datasets/")  # the default cap: 64 MB
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 300


def test_a_content_length_shorter_than_the_file_is_caught_by_the_portals_checksum(
        portal: PortalServer, tmp_path: Path) -> None:
    portal.faults[f"/files/{MOHON}"] = ["short_length"]
    cache = Cache(tmp_path)
    summary = cache.sync([UdataSource("udata", portal.url)], quick())
    [(url, reason)] = summary.failed
    assert url.endswith(MOHON) and "le portail en annonce" in reason
    assert not list((tmp_path / "raw").rglob("*")) or all(
        p.is_dir() for p in (tmp_path / "raw").rglob("*"))
    assert cache.store.documents().empty


@pytest.mark.parametrize(("text", "expected"), [
    ("sha1:AC6F", None),  # not a whole digest: no promise to check against
    ("sha1:" + "ab" * 20, ("sha1", "ab" * 20)),
    ("MD5:" + "0F" * 16, ("md5", "0f" * 16)),
    ("ab" * 16, ("md5", "ab" * 16)),  # CKAN's bare hash: told by its length
    ("ab" * 32, ("sha256", "ab" * 32)),
    ("crc32:1234abcd", None), ("", None), ("sha256:zz", None),
])
def test_announced_checksums(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_checksum(text) == expected


# -- endless pages and payloads of the wrong shape --------------------------------------------
def test_a_udata_next_page_pointing_to_itself_ends(portal: PortalServer) -> None:
    portal.page_size = 1
    portal.udata_files = [MOHON, MOHON]
    portal.faults["/api/1/datasets/"] = ["self_next"] * 100
    source = UdataSource("udata", portal.url, page_size=1)
    found = list(source.resources(quick()))
    assert [r.title for r in found] == [MOHON]  # the first page, read once
    assert portal.hits["/api/1/datasets/"] == 1
    assert any("déjà été lue" in problem for problem in source.problems)


def test_an_endless_catalogue_is_cut_at_max_pages(portal: PortalServer) -> None:
    portal.udata_files = [MOHON]
    portal.page_size = 1
    portal.faults["/api/1/datasets/"] = ["self_next"] * 1000
    source = UdataSource("udata", portal.url, max_pages=5)
    list(source.resources(quick()))
    assert portal.hits["/api/1/datasets/"] <= 5


TEMPLATE: dict[str, Any] = {"data": [], "next_page": None, "page": 1, "page_size": 20,
                            "total": 0}


def resource_of(portal: PortalServer, **extra: Any) -> dict[str, Any]:
    data = portal.files[MOHON]
    return {"id": "r1", "title": "Budget CFU 2023", "url": f"{portal.url}/files/{MOHON}",
            "format": "xml", "filesize": len(data),
            "checksum": {"type": "sha1", "value": hashlib.sha1(data).hexdigest()}, **extra}


@pytest.mark.parametrize("shape", ["top-level list", "data as a string", "null dataset",
                                   "title as a number", "null resource",
                                   "resources as an object"])
def test_a_payload_of_the_wrong_shape_skips_the_record_not_the_sync(
        portal: PortalServer, tmp_path: Path, shape: str) -> None:
    good = {"id": "d1", "title": "Budget", "organization": {"name": "Mohon"},
            "resources": [resource_of(portal)]}
    payload: Any = {
        "top-level list": [good],
        "data as a string": {**TEMPLATE, "data": "abc"},
        "null dataset": {**TEMPLATE, "data": [None, good]},
        "title as a number": {**TEMPLATE, "data": [{**good, "title": 2023}]},
        "null resource": {**TEMPLATE, "data": [{**good, "resources": [None]}, good]},
        "resources as an object": {**TEMPLATE, "data": [{**good, "resources": {"a": 1}},
                                                        good]},
    }[shape]
    portal.hostile_payload = payload
    portal.faults["/api/1/datasets/"] = ["payload"]
    # A second portal (CKAN) publishes another file: it must be synced whatever the first did.
    portal.publish("crach.xml", (TOTEM / "crach_principal_CA_2021.xml").read_bytes())
    portal.ckan_files = ["crach.xml"]
    cache = Cache(tmp_path)
    summary = cache.sync([UdataSource("udata", portal.url), CkanSource("ckan", portal.url)],
                         quick())
    synced = {Path(url).name for url in summary.new}
    assert "crach.xml" in synced
    if shape in ("top-level list", "data as a string"):
        [(where, reason)] = summary.failed
        assert where == "portail udata" and "réponse inattendue" in reason
    elif shape == "title as a number":
        assert MOHON in synced and not summary.failed
    else:
        assert MOHON in synced
        assert any("ignoré" in reason for _, reason in summary.failed)


# -- terminal escapes -------------------------------------------------------------------------
def test_escape_sequences_in_a_document_never_reach_the_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A real SCDL file whose BGT_NOM carries an OSC window-title change, a colour and a
    # one-byte CSI (XML 1.0 cannot hold ESC: a CSV can).
    original = FIXTURES / "scdl_expected" / "crach_lotissement_BP_2022.csv"
    path = tmp_path / "hostile.csv"
    path.write_text(original.read_text("utf-8").replace(
        ",CRACH,", ",\x1b]0;pwned\x07CRACH\x1b[31m\u009b2J,"), "utf-8")
    assert main(["inspect", str(path)]) == 0
    shown = capsys.readouterr().out
    assert "collectivite : ]0;pwnedCRACH[31m2J" in shown  # inert text
    assert not any(c in shown for c in "\x1b\x07\x9b")


# -- found by an independent attack run (each reproduced there first) ----------------------
def test_a_download_cut_by_its_deadline_is_never_taken_as_complete(portal: PortalServer,
                                                                   tmp_path: Path) -> None:
    """A file whose end is told by closing the connection, sent slowly: the watchdog's
    shutdown used to read as the end of the file, and a truncated copy was kept."""
    portal.faults[f"/files/{MOHON}"] = ["slow_close"]
    with pytest.raises(PortalError, match="pas de réponse complète"):
        quick(download_deadline=1.0).download(f"{portal.url}/files/{MOHON}", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_sync_cut_by_a_deadline_keeps_the_good_copy(portal: PortalServer,
                                                      tmp_path: Path) -> None:
    """Opendatasoft exports carry no checksum: only the deadline check protects them."""
    morbihan = FIXTURES / "scdl_expected" / "morbihan_CA_2021.csv"
    portal.publish("morbihan.csv", morbihan.read_bytes())
    portal.ods_datasets = {"budget-morbihan": "morbihan.csv"}
    portal.udata_files = []
    source = OpendatasoftSource("ods", portal.url)
    cache = Cache(tmp_path)
    assert cache.sync([source], quick()).new
    before = cache.store.lines(["22560001400016"], [2021], ["CA"])
    portal.publish("morbihan.csv", morbihan.read_bytes() + b"\n")  # a new version, sent slowly
    portal.faults["/api/explore/v2.1/catalog/datasets/budget-morbihan/exports/csv"] = [
        "slow_close"]
    summary = cache.sync([source], quick(download_deadline=1.0))
    [(_, reason)] = summary.failed
    assert "pas de réponse complète" in reason
    assert cache.store.lines(["22560001400016"], [2021], ["CA"]).equals(before)


@pytest.mark.parametrize("fault", ["retry_after_huge", "deep_json"])
def test_an_answer_no_check_anticipated_costs_its_portal_only(portal: PortalServer,
                                                              tmp_path: Path,
                                                              fault: str) -> None:
    portal.faults["/api/1/datasets/"] = [fault] * 3
    portal.publish("crach.xml", (TOTEM / "crach_principal_CA_2021.xml").read_bytes())
    portal.ckan_files = ["crach.xml"]
    summary = Cache(tmp_path).sync([UdataSource("udata", portal.url),
                                    CkanSource("ckan", portal.url)],
                                   Http(make_session(retries=1, backoff=0.01), timeout=2))
    assert [Path(url).name for url in summary.new] == ["crach.xml"]
    [(where, _)] = summary.failed
    assert where == "portail udata"


def test_a_retry_after_never_outlives_the_deadline(portal: PortalServer) -> None:
    portal.faults["/api/1/datasets/"] = ["retry_after_30"] * 3
    started = time.monotonic()
    with pytest.raises(PortalError):
        Http(make_session(retries=2, backoff=0.01), timeout=2, api_deadline=1.5).json(
            "GET", f"{portal.url}/api/1/datasets/")
    assert time.monotonic() - started < 5


def test_a_not_modified_answer_to_a_plain_request_is_a_failure(portal: PortalServer,
                                                                tmp_path: Path) -> None:
    portal.faults[f"/files/{MOHON}"] = ["not_modified"]
    summary = Cache(tmp_path).sync([UdataSource("udata", portal.url)], quick())
    [(url, reason)] = summary.failed
    assert url.endswith(MOHON) and "304" in reason


def test_a_host_that_cannot_be_a_name_costs_its_file_only(portal: PortalServer,
                                                          tmp_path: Path) -> None:
    """`a..example`: the name cannot even be encoded (no query leaves the machine)."""
    good = {"id": "d1", "title": "Budget", "organization": {"name": "Mohon"},
            "resources": [resource_of(portal), {**resource_of(portal), "id": "r2",
                                                "url": "http://a..example/budget.xml"}]}
    portal.hostile_payload = {**TEMPLATE, "data": [good]}
    portal.faults["/api/1/datasets/"] = ["payload"]
    summary = Cache(tmp_path).sync([UdataSource("udata", portal.url)], quick())
    assert [Path(url).name for url in summary.new] == [MOHON]
    [(url, _)] = summary.failed
    assert "a..example" in url


@pytest.mark.parametrize("address", ["::7f00:1", "2002:7f00:1::1", "64:ff9b:1::7f00:1",
                                     "::ffff:0:7f00:1", "fec0::1", "2001:0:4136:e378::1"])
def test_ipv6_forms_that_embed_an_ipv4_address_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize(("text", "expected"), [
    ("sha256: " + "ab" * 32, ("sha256", "ab" * 32)),
    ("sha3-256:" + "ab" * 32, ("sha3_256", "ab" * 32)),
    ("SHA-1:" + "ab" * 20, ("sha1", "ab" * 20)),
])
def test_checksums_written_other_ways_are_still_checked(text: str,
                                                        expected: tuple[str, str]) -> None:
    assert parse_checksum(text) == expected


def test_a_deadline_only_cuts_its_own_call() -> None:
    """Two threads share one session on a keep-alive (HTTP/1.1) server. A is told to retry
    in 2 s with a 1 s deadline; while it waits, its socket goes back to the pool and B takes
    it. A's deadline used to shut that socket down under B (B failed 0.7 s in)."""
    hits: list[str] = []

    class KeepAlive(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            hits.append(self.path)
            if self.path == "/a":
                self.send_response(503)
                self.send_header("Retry-After", "2")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b'{"b": "' + b"x" * 25 + b'"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for byte in body:  # about 3 s
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    session = make_session(retries=1, backoff=0)
    results: dict[str, object] = {}

    def call(name: str, deadline: float) -> None:
        try:
            results[name] = Http(session, timeout=10, api_deadline=deadline).json(
                "GET", f"{url}/{name}")
        except PortalError as exc:
            results[name] = exc

    try:
        first = threading.Thread(target=call, args=("a", 1.0))
        first.start()
        time.sleep(0.3)
        second = threading.Thread(target=call, args=("b", 30.0))
        second.start()
        first.join(20)
        second.join(20)
    finally:
        server.shutdown()
        server.server_close()
    assert isinstance(results["a"], PortalError)
    assert results["b"] == {"b": "x" * 25}


def test_a_json_error_that_is_not_a_refused_query_keeps_its_own_advice(
        portal: PortalServer) -> None:
    """A portal's JSON error message is said whatever the status, but only a 400 (a query
    refused as written: an Opendatasoft field renamed) says to report renamed fields. udata's
    404 for an organisation gone (flask-restx: `{"message": ...}`) was told « il a peut-être
    renommé ses champs ; signalez-le », the wrong advice for a resource removed."""
    with pytest.raises(PortalError) as caught:
        quick().json("GET", f"{portal.url}/api/1/organizations/000000000000000000000000/")
    said = caught.value.french()
    assert "répondu 404" in said and "The requested URL was not found" in said
    assert "renommé ses champs" not in said and "retirée" in said
