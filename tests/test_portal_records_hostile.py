"""Record fields of the wrong type from a portal (udata datasets and organisations, GeoNetwork
hits): the record or the field is dropped and the sync goes on, with the other portal synced.

Shapes: udata's own API writes `id`, `title`, `organization.name` as strings; a proxy or
another udata version giving a list, an object or null in their place is what is tried here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from budget_core.cache import Cache
from budget_core.sources.ckan import CkanSource
from budget_core.sources.geonetwork import GeonetworkSource
from budget_core.sources.udata import UdataSource
from tests.conftest import TOTEM
from tests.portal_server import PortalServer, running
from tests.test_hostile_portals import MOHON, TEMPLATE, quick, resource_of


@pytest.fixture
def portal() -> Iterator[PortalServer]:
    for server in running():
        server.publish(MOHON, (TOTEM / MOHON).read_bytes())
        server.udata_files = [MOHON]
        yield server


@pytest.mark.parametrize("shape", ["id as a list", "id as an object", "organisation name as an "
                                   "object", "resource id as a list", "url as a list",
                                   "last_modified as an object", "filesize as text"])
def test_a_field_of_the_wrong_type_never_stops_the_sync(
        portal: PortalServer, tmp_path: Path, shape: str) -> None:
    good: dict[str, Any] = {"id": "d1", "title": "Budget", "organization": {"name": "Mohon"},
                            "resources": [resource_of(portal)]}
    odd = {
        "id as a list": {**good, "id": ["d1"]},
        "id as an object": {**good, "id": {"$oid": "d1"}},
        "organisation name as an object": {**good, "organization": {"name": {"fr": "M"}}},
        "resource id as a list": {**good, "resources": [resource_of(portal, id=["r1"])]},
        "url as a list": {**good, "resources": [resource_of(portal, url=["x"])]},
        "last_modified as an object": {**good, "resources": [
            resource_of(portal, last_modified={"$date": 1})]},
        "filesize as text": {**good, "resources": [resource_of(portal, filesize="12 ko")]},
    }[shape]
    portal.hostile_payload = {**TEMPLATE, "data": [odd]}
    portal.faults["/api/1/datasets/"] = ["payload"]
    portal.publish("crach.xml", (TOTEM / "crach_principal_CA_2021.xml").read_bytes())
    portal.ckan_files = ["crach.xml"]
    summary = Cache(tmp_path).sync([UdataSource("udata", portal.url),
                                    CkanSource("ckan", portal.url)], quick())
    assert "crach.xml" in {Path(url).name for url in summary.new}


def test_geonetwork_null_and_odd_fields_give_text_or_nothing() -> None:
    """`_id: null` became dataset_id None (resource id « None#0 ») and a `dateStamp` object
    its Python repr as the date; a null link or contact in a list dropped the whole record
    with its good links."""
    link = {"urlObject": {"default": "https://x.example/budget.csv"},
            "nameObject": {"default": "Budget primitif"}, "protocol": "WWW:DOWNLOAD"}
    source = GeonetworkSource("gn", "https://x.example/geonetwork")
    hits = [{"_id": None, "_source": {"link": [link], "dateStamp": {"x": 1}}},
            {"_id": "3", "_source": {"resourceTitleObject": {"default": None},
                                     "link": [None, link], "contactForResource": [None]}}]
    first, second = source._each(hits, source._resources, "ici")
    assert (first.dataset_id, first.resource_id, first.last_modified) == ("", "#0", "")
    assert (second.dataset_id, second.url, second.organization) == (
        "3", "https://x.example/budget.csv", "")


def test_udata_organisation_lookups_are_capped_per_sync(portal: PortalServer) -> None:
    """Each new organisation id costs a request for its SIRET: a portal giving every dataset
    its own organisation made as many requests as datasets (100 000 over 1 000 pages)."""
    datasets = [{"id": f"d{n}", "title": "Budget", "organization": {"id": f"org{n}",
                                                                    "name": "Commune"},
                 "resources": [resource_of(portal, id=f"r{n}")]} for n in range(5)]
    portal.hostile_payload = {**TEMPLATE, "data": datasets}
    portal.faults["/api/1/datasets/"] = ["payload"]
    source = UdataSource("udata", portal.url, max_organisations=2)
    found = list(source.resources(quick()))
    assert len(found) == 5
    asked = [path for path in portal.requests if path.startswith("/api/1/organizations/")]
    assert len(asked) == 2
    assert sum("plus de 2 organisations" in problem for problem in source.problems) == 1
