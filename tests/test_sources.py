"""Portal clients against a local server answering like udata, Opendatasoft, CKAN, GeoNetwork."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from budget_core.errors import PortalError
from budget_core.http import Http, make_session
from budget_core.sources import load_portals, source_for
from budget_core.sources.ckan import CkanSource
from budget_core.sources.geonetwork import GeonetworkSource
from budget_core.sources.opendatasoft import OpendatasoftSource
from budget_core.sources.udata import UdataSource
from tests.conftest import FIXTURES, TOTEM
from tests.portal_server import PortalServer, running

FILES = ["crach_principal_CA_2021.xml", "crach_lotissement_BP_2022.xml", "mohon_CFU_2023.xml",
         "morbihan_CA_2021.csv"]


@pytest.fixture
def server() -> Iterator[PortalServer]:
    yield from running()


@pytest.fixture
def http() -> Http:
    return Http(make_session(retries=2, backoff=0.05), timeout=5)


def publish_all(server: PortalServer) -> None:
    for name in FILES:
        source = TOTEM / name if name.endswith(".xml") else FIXTURES / "scdl_expected" / name
        server.publish(name, source.read_bytes())
    server.publish("notice.pdf", b"%PDF-1.4")


def test_udata_follows_next_page_and_keeps_only_budget_files(server: PortalServer,
                                                             http: Http) -> None:
    publish_all(server)
    server.udata_files = FILES
    found = list(UdataSource("dgouv", server.url, queries=[], page_size=2).resources(http))
    assert [r.title for r in found] == FILES  # 4 datasets over 2 pages, PDFs left out
    assert server.hits["/api/1/datasets/"] == 2
    csv = found[3]
    assert (csv.format, csv.schema) == ("csv", "scdl/budget")
    assert csv.checksum.startswith("sha1:") and csv.filesize == len(server.files[csv.title])


def test_udata_publisher_siren_comes_from_the_organisation_record_once(
        server: PortalServer, http: Http) -> None:
    """The organisation a dataset embeds has no SIRET (recorded answer: id, name, slug,
    badges...); its own record's `business_number_id` has one, asked once for 4 datasets."""
    publish_all(server)
    server.udata_files = FILES
    embedded = json.loads((FIXTURES / "api" / "udata_dataset.json").read_text("utf-8"))
    assert "business_number_id" not in embedded["organization"]
    found = list(UdataSource("dgouv", server.url, queries=[], page_size=2).resources(http))
    assert {r.siren for r in found} == {"215600461"}  # SIRET 21560046100010: Crach
    assert server.hits["/api/1/organizations/646b7187b50b2a93b1ae3d45/"] == 1


def test_udata_organisation_unreadable_leaves_the_siren_unknown(server: PortalServer,
                                                                http: Http) -> None:
    publish_all(server)
    server.udata_files = FILES
    server.faults["/api/1/organizations/646b7187b50b2a93b1ae3d45/"] = ["html"]
    source = UdataSource("dgouv", server.url, queries=[], page_size=2)
    found = list(source.resources(http))
    assert [r.title for r in found] == FILES and {r.siren for r in found} == {""}
    [problem] = source.problems
    assert "SIREN de l'organisation inconnu" in problem
    server.udata_sirets["646b7187b50b2a93b1ae3d45"] = "non renseigné"
    found = list(UdataSource("dgouv", server.url, queries=[]).resources(http))
    assert {r.siren for r in found} == {""}


def test_opendatasoft_lists_the_catalog_and_downloads_exports(server: PortalServer,
                                                              http: Http) -> None:
    publish_all(server)
    server.ods_datasets = {"budget-morbihan": "morbihan_CA_2021.csv",
                           "budget-crach": "crach_principal_CA_2021.xml"}
    found = list(OpendatasoftSource("ods", server.url, page_size=1).resources(http))
    assert [r.dataset_id for r in found] == ["budget-morbihan", "budget-crach"]
    assert found[0].url.endswith("/api/explore/v2.1/catalog/datasets/budget-morbihan/"
                                 "exports/csv?delimiter=%3B")
    assert server.hits["/api/explore/v2.1/catalog/datasets"] == 2


def test_ckan_pages_with_rows_and_start(server: PortalServer, http: Http) -> None:
    publish_all(server)
    server.ckan_files = FILES[:3]
    found = list(CkanSource("ckan", server.url, page_size=2).resources(http))
    assert [r.title for r in found] == FILES[:3]
    assert {r.format for r in found} == {"xml"}
    assert server.hits["/api/3/action/package_search"] == 2


def test_geonetwork_search_keeps_download_links(server: PortalServer, http: Http) -> None:
    publish_all(server)
    server.geonetwork_files = FILES[:2]
    found = list(GeonetworkSource("dge", f"{server.url}/geonetwork", page_size=1)
                 .resources(http))
    assert [r.title for r in found] == FILES[:2]  # the WMS link is not a budget file
    assert found[0].dataset_id == "uuid-0"


def test_geonetwork_reads_both_index_shapes(server: PortalServer, http: Http) -> None:
    """4.2+ (`urlObject`, lists) and 4.0 (`url`, `name`, `organisation`, one link and one
    contact as single objects, `WWW:DOWNLOAD:application/xml` for a URL without extension)."""
    publish_all(server)
    server.geonetwork_files = ["crach_principal_CA_2021.xml", "morbihan_CA_2021.csv"]
    new, old = GeonetworkSource("dge", f"{server.url}/geonetwork").resources(http)
    assert (new.url, new.format, new.organization) == (
        f"{server.url}/files/crach_principal_CA_2021.xml", "xml", "Commune")
    assert (old.url, old.format, old.title, old.organization) == (
        f"{server.url}/telechargement/morbihan_CA_2021", "csv", "morbihan_CA_2021.csv",
        "Commune")


def test_gzip_answers_are_decoded(server: PortalServer, http: Http) -> None:
    publish_all(server)
    server.ckan_files = FILES[:1]
    server.faults["/api/3/action/package_search"] = ["gzip"]
    assert [r.title for r in CkanSource("ckan", server.url).resources(http)] == FILES[:1]


def test_portal_answering_html_gives_a_clear_error(server: PortalServer, http: Http) -> None:
    server.faults["/api/1/datasets/"] = ["html"]
    with pytest.raises(PortalError, match="JSON attendu"):
        list(UdataSource("dgouv", server.url).resources(http))


def test_registry_ships_the_four_platforms_and_takes_user_portals(tmp_path: Path) -> None:
    kinds = {p.name: p.kind for p in load_portals()}
    assert kinds["data.gouv.fr"] == "udata" and kinds["data.ofgl.fr"] == "opendatasoft"
    assert kinds["DataGrandEst"] == "geonetwork" and kinds["DataSud"] == "ckan"
    (tmp_path / "portals.toml").write_text(
        '[[portal]]\nname = "Ma ville"\nkind = "opendatasoft"\n'
        'url = "https://data.maville.fr"\nquery = "budget primitif"\n', encoding="utf-8")
    both = {p.name: p for p in load_portals(tmp_path)}
    assert "data.gouv.fr" in both
    mine = both["Ma ville"]
    source = source_for(mine)
    assert isinstance(source, OpendatasoftSource) and source.query == "budget primitif"


@pytest.mark.parametrize(("text", "words"), [
    ("[[portal]\n", "syntaxe TOML"),
    ('[[portal]]\nname = "x"\nkind = "ftp"\nurl = "u"\n', "type de portail « ftp » inconnu"),
    ('[[portal]]\nname = "x"\nurl = "u"\n', "n'a pas de « kind »"),
])
def test_bad_registry_entries(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "portals.toml").write_text(text, encoding="utf-8")
    with pytest.raises(PortalError, match=words):
        load_portals(tmp_path)


def test_a_user_registry_can_stand_alone(tmp_path: Path) -> None:
    (tmp_path / "portals.toml").write_text(
        'replace = true\n[[portal]]\nname = "seul"\nkind = "ckan"\nurl = "https://x"\n',
        encoding="utf-8")
    assert [p.name for p in load_portals(tmp_path)] == ["seul"]
