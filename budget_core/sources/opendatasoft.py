"""Opendatasoft portals (Explore API v2.1): catalogue search, then CSV exports.

`GET /api/explore/v2.1/catalog/datasets?where=search("budget")&limit=100&offset=N` lists the
datasets; each dataset with records is downloaded whole through
`/api/explore/v2.1/catalog/datasets/{id}/exports/csv` (never paginated `/records`).
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


class OpendatasoftSource(KeywordSource):
    def _api(self) -> str:
        return f"{self.url.rstrip('/')}/api/explore/v2.1/catalog/datasets"

    def _page(self, http: Http, offset: int) -> tuple[list[dict[str, Any]], int]:
        page = json_object(http.json("GET", self._api(), params={
            "where": f'search("{self.query}")', "limit": self.page_size, "offset": offset}),
            self._api())
        return page.get("results") or [], count(page.get("total_count"))

    def _resources(self, dataset: dict[str, Any]) -> Iterator[PublishedResource]:
        dataset_id = dataset.get("dataset_id", "")
        meta = (dataset.get("metas") or {}).get("default") or {}
        title = meta.get("title") or dataset_id
        keywords = " ".join(meta.get("keyword") or [])
        url = f"{self._api()}/{dataset_id}/exports/csv?delimiter=%3B"
        if not dataset.get("has_records", True) or not is_budget_file(
                "csv", url, text=f"{title} {keywords} {dataset_id}"):
            return
        yield PublishedResource(
            source=self.name, dataset_id=dataset_id, dataset_title=title,
            resource_id=f"{dataset_id}/exports/csv", url=url, format="csv", title=title,
            organization=meta.get("publisher") or "", last_modified=meta.get("modified") or "",
            origins=(self.name,),
        )
