"""GeoNetwork 4 catalogues (geOrchestra platforms such as DataGrandEst).

DataGrandEst (successor of GéoGrandEst) runs geOrchestra: its catalogue is GeoNetwork at
`https://www.datagrandest.fr/geonetwork`, searched through the Elasticsearch endpoint
`POST /srv/api/search/records/_search` (`from`/`size` pagination); records list their files in
`link[]`. The index has two shapes, both read (as geonetwork-ui, GeoNetwork's own client,
reads them; checked on the recorded answers of its test fixtures, Sextant and geo.admin.ch):
GeoNetwork 4.2+ writes `urlObject`/`nameObject` (`{"default": …, "langfre": …}`) and
`contactForResource[].organisationObject`; 4.0 writes plain `url`, `name` and `organisation`.
A field holding one value may be one object instead of a list of one. A download protocol
may carry the file's type, `WWW:DOWNLOAD:text/csv`, for a URL without extension.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from budget_core.http import Http
from budget_core.sources.base import (
    KeywordSource,
    PublishedResource,
    count,
    is_budget_file,
    json_object,
)


def _text(value: Any) -> str:
    """A plain string, or the `default` of a translated object; anything else is no text."""
    if isinstance(value, dict):
        value = value.get("default")
    return value if isinstance(value, str) else ""


def _many(value: Any) -> list[dict[str, Any]]:
    """A field indexed as a list, or as its one object; its objects only (a `null` in a list
    of links dropped the whole record, its good links with it)."""
    return [item for item in (value if isinstance(value, list) else [value])
            if isinstance(item, dict)]


def _translated(item: dict[str, Any], name: str) -> str:
    """`nameObject` (GeoNetwork 4.2+) else `name` (4.0)."""
    return _text(item.get(f"{name}Object")) or _text(item.get(name))


def _format(link: dict[str, Any], url: str) -> str:
    """From the link's mime type (`mimeType`, or `WWW:DOWNLOAD:<mime>`), else the URL's
    file extension: csv, xml, or the type's own name."""
    protocol = _text(link.get("protocol"))
    mime = _text(link.get("mimeType")) or (
        protocol.split(":", 2)[2] if protocol.startswith("WWW:DOWNLOAD:") else "")
    if "/" in mime:
        subtype = mime.split("/", 1)[1].split(";", 1)[0].strip().lower()
        return next((known for known in ("csv", "xml") if subtype.endswith(known)), subtype)
    last = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


class GeonetworkSource(KeywordSource):
    def _page(self, http: Http, offset: int) -> tuple[list[dict[str, Any]], int]:
        api = f"{self.url.rstrip('/')}/srv/api/search/records/_search"
        body = {"from": offset, "size": self.page_size,
                "query": {"query_string": {"query": self.query}},
                "_source": ["resourceTitleObject", "link", "contactForResource", "dateStamp",
                            "tag"]}
        answer = json_object(http.json("POST", api, json=body,
                                       headers={"Accept": "application/json"}), api)
        hits = json_object(answer.get("hits") or {}, api)
        total = hits.get("total")
        return hits.get("hits") or [], count(total.get("value") if isinstance(total, dict)
                                             else total)

    def _resources(self, hit: dict[str, Any]) -> Iterator[PublishedResource]:
        record = hit.get("_source") or {}
        title = _translated(record, "resourceTitle")
        contacts = _many(record.get("contactForResource"))
        organisation = _translated(contacts[0], "organisation") if contacts else ""
        identifier = _text(hit.get("_id"))  # `null`: no identifier, not « None »
        for index, link in enumerate(_many(record.get("link"))):
            url = _translated(link, "url")
            name = _translated(link, "name")
            fmt = _format(link, url)
            if not url or not is_budget_file(fmt, url, text=f"{title} {name}"):
                continue
            yield PublishedResource(
                source=self.name, dataset_id=identifier, dataset_title=title,
                resource_id=f"{identifier}#{index}", url=url, format=fmt,
                title=name, organization=organisation,
                last_modified=_text(record.get("dateStamp")), origins=(self.name,),
            )
