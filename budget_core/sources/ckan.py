"""CKAN portals (action API): `package_search` with `rows`/`start` pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from budget_core.errors import PortalError
from budget_core.http import Http
from budget_core.sources.base import KeywordSource, PublishedResource, is_budget_file


class CkanSource(KeywordSource):
    def _page(self, http: Http, offset: int) -> tuple[list[dict[str, Any]], int]:
        api = f"{self.url.rstrip('/')}/api/3/action/package_search"
        envelope: dict[str, Any] = http.json("GET", api, params={
            "q": self.query, "rows": self.page_size, "start": offset})
        if not envelope.get("success"):
            raise PortalError("le portail CKAN a refusé la recherche "
                              f"({envelope.get('error')}).", source=api)
        result = envelope.get("result") or {}
        return result.get("results") or [], int(result.get("count") or 0)

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
                checksum=f"md5:{resource['hash']}" if resource.get("hash") else "",
                filesize=resource.get("size"), origins=(self.name,),
            )
