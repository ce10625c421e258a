"""data.gouv.fr and other udata portals (API v1): datasets by schema and by keywords.

`GET /api/1/datasets/?schema=scdl/budget&page_size=100` then `next_page` until null; the same
with `q=<keywords>`. Each dataset carries its resources (url, format, schema, checksum...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from budget_core.http import Http
from budget_core.numbers import is_digits
from budget_core.sources.base import (
    SCDL_SCHEMA,
    CatalogueSource,
    PublishedResource,
    checksum_text,
    is_budget_file,
    json_object,
)


@dataclass
class UdataSource(CatalogueSource):
    schema: str = SCDL_SCHEMA
    queries: list[str] = field(default_factory=list)
    page_size: int = 100

    def resources(self, http: Http) -> Iterator[PublishedResource]:
        searches: list[dict[str, Any]] = [{"schema": self.schema}]
        searches += [{"q": query} for query in self.queries]
        for params in searches:
            yield from self._search(http, {**params, "page_size": self.page_size})

    def _search(self, http: Http, params: dict[str, Any]) -> Iterator[PublishedResource]:
        url: str = f"{self.url.rstrip('/')}/api/1/datasets/"
        query: dict[str, Any] | None = params
        # Pages are known by their full address, as a next_page link would write it.
        seen = {requests.Request("GET", url, params=params).prepare().url}
        for _ in range(self.max_pages):
            page = json_object(http.json("GET", url, params=query), url)
            yield from self._each(page.get("data"), self._dataset, url)
            next_page = page.get("next_page")
            if not next_page:
                return
            if not isinstance(next_page, str) or next_page in seen:
                self.problems.append(f"{url} : la page suivante annoncée ({next_page!s:.200}) "
                                     "a déjà été lue ou n'est pas une adresse ; lecture "
                                     "arrêtée.")
                return
            seen.add(next_page)
            url, query = next_page, None
        self._too_many_pages()

    def _dataset(self, dataset: dict[str, Any]) -> Iterator[PublishedResource]:
        organisation = dataset.get("organization") or {}
        siren = str(organisation.get("business_number_id") or "")[:9]
        for resource in dataset.get("resources") or []:
            schema = (resource.get("schema") or {}).get("name") or ""
            text = f"{dataset.get('title', '')} {resource.get('title', '')}"
            if not is_budget_file(resource.get("format") or "", resource.get("url") or "",
                                  schema, text):
                continue
            yield PublishedResource(
                source=self.name, dataset_id=dataset.get("id", ""),
                dataset_title=dataset.get("title", ""), resource_id=resource.get("id", ""),
                url=resource.get("url", ""), format=(resource.get("format") or "").lower(),
                title=resource.get("title") or "", organization=organisation.get("name", ""),
                siren=siren if is_digits(siren) else "", schema=schema,
                last_modified=resource.get("last_modified") or "",
                checksum=checksum_text(resource.get("checksum")),
                filesize=resource.get("filesize"), origins=(self.name,),
            )
