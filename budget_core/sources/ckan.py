"""CKAN portals (action API): `package_search` with `rows`/`start` pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from budget_core.errors import PortalError
from budget_core.http import Http
from budget_core.sources.base import (
    KeywordSource,
    PublishedResource,
    checksum_text,
    count,
    is_budget_file,
    json_object,
)


class CkanSource(KeywordSource):
    def _page(self, http: Http, offset: int) -> tuple[list[dict[str, Any]], int]:
        api = f"{self.url.rstrip('/')}/api/3/action/package_search"
        envelope = json_object(http.json("GET", api, params={
            "q": self.query, "rows": self.page_size, "start": offset}), api)
        if not envelope.get("success"):
            raise PortalError("le portail CKAN a refusé la recherche "
                              f"({envelope.get('error')}).", source=api)
        result = json_object(envelope.get("result") or {}, api)
        return result.get("results") or [], count(result.get("count"))

    def _resources(self, package: dict[str, Any]) -> Iterator[PublishedResource]:
        organisation = package.get("organization") or {}
        for resource in package.get("resources") or []:
            text = f"{package.get('title', '')} {resource.get('name', '')}"
            if not is_budget_file(resource.get("format") or "", resource.get("url") or "",
                                  text=text):
                continue
            yield PublishedResource(
                source=self.name, dataset_id=package.get("id", ""),
                dataset_title=package.get("title", ""), resource_id=resource.get("id", ""),
                url=resource.get("url", ""), format=(resource.get("format") or "").lower(),
                title=resource.get("name") or "", organization=organisation.get("title", ""),
                last_modified=resource.get("last_modified") or package.get(
                    "metadata_modified", ""),
                checksum=checksum_text(resource.get("hash")),  # md5 or sha1: by its length
                filesize=resource.get("size"), origins=(self.name,),
            )
