"""data.gouv.fr and other udata portals (API v1): datasets by schema and by keywords.

`GET /api/1/datasets/?schema=scdl/budget&page_size=100` then `next_page` until null; the same
with `q=<keywords>`. Each dataset carries its resources (url, format, schema, checksum...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from budget_core.http import Http
from budget_core.sources.base import SCDL_SCHEMA, PublishedResource, is_budget_file


@dataclass
class UdataSource:
    name: str
    url: str
    schema: str = SCDL_SCHEMA
    queries: list[str] = field(default_factory=list)
    page_size: int = 100

    def resources(self, http: Http) -> Iterator[PublishedResource]:
        searches: list[dict[str, Any]] = [{"schema": self.schema}]
        searches += [{"q": query} for query in self.queries]
        for params in searches:
            yield from self._search(http, {**params, "page_size": self.page_size})

    def _search(self, http: Http, params: dict[str, Any]) -> Iterator[PublishedResource]:
        page: dict[str, Any] = http.json("GET", f"{self.url.rstrip('/')}/api/1/datasets/",
                                         params=params)
        while True:
            for dataset in page.get("data") or []:
                yield from self._dataset(dataset)
            next_page = page.get("next_page")
            if not next_page:
                return
            page = http.json("GET", next_page)

    def _dataset(self, dataset: dict[str, Any]) -> Iterator[PublishedResource]:
        organisation = dataset.get("organization") or {}
        siren = str(organisation.get("business_number_id") or "")[:9]
        for resource in dataset.get("resources") or []:
            schema = (resource.get("schema") or {}).get("name") or ""
            text = f"{dataset.get('title', '')} {resource.get('title', '')}"
            if not is_budget_file(resource.get("format") or "", resource.get("url") or "",
                                  schema, text):
                continue
            checksum = resource.get("checksum") or {}
            yield PublishedResource(
                source=self.name, dataset_id=dataset.get("id", ""),
                dataset_title=dataset.get("title", ""), resource_id=resource.get("id", ""),
                url=resource.get("url", ""), format=(resource.get("format") or "").lower(),
                title=resource.get("title") or "", organization=organisation.get("name", ""),
                siren=siren if siren.isdigit() else "", schema=schema,
                last_modified=resource.get("last_modified") or "",
                checksum=f"{checksum['type']}:{checksum['value']}" if checksum else "",
                filesize=resource.get("filesize"), origins=(self.name,),
            )
