"""The record every source yields, and what makes a resource worth downloading."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from budget_core.errors import PortalError
from budget_core.http import Http

BUDGET_FORMATS = ("csv", "xml")
SCDL_SCHEMA = "scdl/budget"
MAX_PAGES = 1000  # of one search in one sync: a portal that never ends is cut there


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

    def __post_init__(self) -> None:
        """Portal payloads are not trusted: a number where text is meant becomes text,
        a missing value empty; anything else (a list, an object) is refused (TypeError)."""
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "filesize":
                size = value if isinstance(value, int) and not isinstance(value, bool) else (
                    int(value) if isinstance(value, str) and value.isascii()
                    and value.isdigit() else None)
                object.__setattr__(self, "filesize", size)
            elif item.name != "origins":
                if value is None:
                    value = ""
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    value = str(value)
                elif not isinstance(value, str):
                    raise TypeError(f"{item.name}: {type(value).__name__}")
                object.__setattr__(self, item.name, value)

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


def json_object(value: Any, url: str) -> dict[str, Any]:
    """A page of a portal's API must be a JSON object."""
    if not isinstance(value, dict):
        raise PortalError(f"réponse inattendue : un objet JSON était attendu, reçu "
                          f"{type(value).__name__}.", source=url,
                          hint="Le portail a peut-être changé d'API ; vérifiez son adresse et "
                               "son type dans le registre des portails.")
    return value


def checksum_text(value: Any) -> str:
    """A checksum as a portal gives it: udata's `{"type": "sha1", "value": "…"}` or a string;
    anything else is no checksum (the file is then kept unverified, not refused)."""
    if isinstance(value, dict):
        kind, digest = value.get("type"), value.get("value")
        return f"{kind}:{digest}" if isinstance(kind, str) and isinstance(digest, str) else ""
    return value if isinstance(value, str) else ""


def count(value: Any) -> int:
    """A total announced by a portal: a whole number, else 0 (the pages then end the loop)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return 0  # anything else, 5 000 digits included


@dataclass
class CatalogueSource:
    """What every source shares: records read one by one, a malformed one skipped and
    reported in `problems` rather than stopping the portal, and pages capped."""

    name: str
    url: str
    max_pages: int = MAX_PAGES
    problems: list[str] = field(default_factory=list, init=False, repr=False)

    def _each(self, items: Any, convert: Callable[[dict[str, Any]],
                                                 Iterator[PublishedResource]],
              where: str) -> Iterator[PublishedResource]:
        if items is None:
            return
        if not isinstance(items, list):
            raise PortalError(f"réponse inattendue : une liste était attendue, reçu "
                              f"{type(items).__name__}.", source=where,
                              hint="Le portail a peut-être changé d'API.")
        for number, item in enumerate(items, start=1):
            try:
                if not isinstance(item, dict):
                    raise TypeError(type(item).__name__)
                found = list(convert(item))
            except (TypeError, AttributeError, KeyError, ValueError) as exc:
                self.problems.append(f"{where} : enregistrement n° {number} ignoré, de forme "
                                     f"inattendue ({type(exc).__name__}).")
                continue
            yield from found

    def _too_many_pages(self) -> None:
        self.problems.append(f"{self.url} : plus de {self.max_pages} pages, lecture arrêtée "
                             "(le portail semble ne jamais finir).")


@dataclass
class KeywordSource(CatalogueSource):
    """A portal searched by keywords, page after page with an offset (CKAN, Opendatasoft,
    GeoNetwork): subclasses say how to ask for a page and what a result publishes."""

    query: str = "budget"
    page_size: int = 100

    def resources(self, http: Http) -> Iterator[PublishedResource]:
        offset, previous = 0, None
        for _ in range(self.max_pages):
            items, total = self._page(http, offset)
            if items and items == previous:
                self.problems.append(f"{self.url} : la page à partir de {offset} répète la "
                                     "précédente, lecture arrêtée.")
                return
            yield from self._each(items, self._resources, f"{self.url} (à partir de {offset})")
            offset += len(items)
            previous = items
            if not items or offset >= total:
                return
        self._too_many_pages()

    def _page(self, http: Http, offset: int) -> tuple[list[dict[str, Any]], int]:
        raise NotImplementedError

    def _resources(self, item: dict[str, Any]) -> Iterator[PublishedResource]:
        raise NotImplementedError


class Source(Protocol):
    name: str
    problems: list[str]  # records skipped, pages cut: reported by the sync

    def resources(self, http: Http) -> Iterator[PublishedResource]: ...
