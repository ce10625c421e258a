"""The record every source yields, and what makes a resource worth downloading."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from budget_core.http import Http

BUDGET_FORMATS = ("csv", "xml")
SCDL_SCHEMA = "scdl/budget"


@dataclass(frozen=True)
class PublishedResource:
    """A file a portal publishes, with where it came from."""

    source: str  # registry name of the portal
    dataset_id: str
    dataset_title: str
    resource_id: str
    url: str
    format: str  # lower case: csv, xml...
    title: str = ""
    organization: str = ""
    siren: str = ""  # of the publishing organisation, when the portal gives it
    schema: str = ""
    last_modified: str = ""
    checksum: str = ""  # as the portal states it, e.g. "sha1:ac6f..."
    filesize: int | None = None
    origins: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """Identity in the cache catalogue: the file's URL (the same file harvested by two
        portals is one resource with two origins)."""
        return normalise_url(self.url)


def normalise_url(url: str) -> str:
    return url.strip().replace("http://", "https://", 1).rstrip("/")


def is_budget_file(fmt: str, url: str, schema: str = "", text: str = "") -> bool:
    """A CSV or XML file that declares the SCDL budget schema or speaks of budgets."""
    fmt = (fmt or url.rsplit(".", 1)[-1]).lower()
    if fmt not in BUDGET_FORMATS:
        return False
    if schema == SCDL_SCHEMA:
        return True
    lowered = f"{text} {url}".lower()
    return any(word in lowered for word in ("budget", "totem", "compte administratif",
                                            "compte financier", "bgt_"))


@dataclass
class KeywordSource:
    """A portal searched by keywords, page after page with an offset (CKAN, Opendatasoft,
    GeoNetwork): subclasses say how to ask for a page and what a result publishes."""

    name: str
    url: str
    query: str = "budget"
    page_size: int = 100

    def resources(self, http: Http) -> Iterator[PublishedResource]:
        offset = 0
        while True:
            items, total = self._page(http, offset)
            for item in items:
                yield from self._resources(item)
            offset += len(items)
            if not items or offset >= total:
                return

    def _page(self, http: Http, offset: int) -> tuple[list[dict[str, Any]], int]:
        raise NotImplementedError

    def _resources(self, item: dict[str, Any]) -> Iterator[PublishedResource]:
        raise NotImplementedError


class Source(Protocol):
    name: str

    def resources(self, http: Http) -> Iterator[PublishedResource]: ...
