"""GeoNetwork 4 catalogues (geOrchestra platforms such as DataGrandEst).

DataGrandEst (successor of GéoGrandEst) runs geOrchestra: its catalogue is GeoNetwork at
`https://www.datagrandest.fr/geonetwork`, searched through the Elasticsearch endpoint
`POST /srv/api/search/records/_search` (`from`/`size` pagination); records list their files in
`link[]` (`urlObject.default`, `protocol`, `function`).
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
    return (value or {}).get("default", "") if isinstance(value, dict) else str(value or "")


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
        title = _text(record.get("resourceTitleObject"))
        contacts = record.get("contactForResource") or [{}]
        organisation = _text(contacts[0].get("organisationObject"))
        for index, link in enumerate(record.get("link") or []):
            url = _text(link.get("urlObject"))
            name = _text(link.get("nameObject"))
            fmt = url.split("?", 1)[0].rsplit(".", 1)[-1].lower() if "." in url else ""
            if not url or not is_budget_file(fmt, url, text=f"{title} {name}"):
                continue
            yield PublishedResource(
                source=self.name, dataset_id=hit.get("_id", ""), dataset_title=title,
                resource_id=f"{hit.get('_id', '')}#{index}", url=url, format=fmt,
                title=name, organization=organisation,
                last_modified=str(record.get("dateStamp") or ""), origins=(self.name,),
            )
