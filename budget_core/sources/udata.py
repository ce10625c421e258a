"""data.gouv.fr and other udata portals (API v1): datasets by schema and by keywords.

`GET /api/1/datasets/?schema=scdl/budget&page_size=100` then `next_page` until null; the same
with `q=<keywords>`. Each dataset carries its resources (url, format, schema, checksum...).

The publisher's SIREN is not in the organisation a dataset embeds (id, name, slug, badges...):
it is the `business_number_id` (a SIRET) of `GET /api/1/organizations/<id>/`, asked once per
organisation and sync (checked on a recorded data.gouv.fr answer: « 13002526500013 », the
SIRET of the DINUM, also in its `siretisation:found_siret` extra; udata's model declares the
field as the organisation's business number).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from budget_core.errors import BudgetError
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
    sirens: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    # Organisation records asked at most per sync: a portal inventing an organisation per
    # dataset made one request each (up to 100 000 over 1 000 pages of 100).
    max_organisations: int = 5000

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
            yield from self._each(page.get("data"),
                                  lambda dataset: self._dataset(http, dataset), url)
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

    def _siren(self, http: Http, organisation: dict[str, Any]) -> str:
        """The organisation's SIREN from its own record (fetched once per sync), "" when it
        states none or cannot be read (then said in `problems`, the datasets still listed)."""
        identifier = organisation.get("id")
        if not isinstance(identifier, str) or not identifier:
            return ""
        if identifier not in self.sirens:
            if len(self.sirens) >= self.max_organisations:
                if len(self.sirens) == self.max_organisations:
                    self.problems.append(f"{self.url} : plus de {self.max_organisations} "
                                         "organisations ; les suivantes sont listées sans "
                                         "SIREN.")
                    self.sirens[""] = ""  # said once
                return ""
            url = f"{self.url.rstrip('/')}/api/1/organizations/{quote(identifier, safe='')}/"
            self.sirens[identifier] = ""
            try:
                number = json_object(http.json("GET", url), url).get("business_number_id")
            except BudgetError as exc:
                self.problems.append(f"{url} : SIREN de l'organisation inconnu ({exc.message})")
                return ""
            digits = number.replace(" ", "") if isinstance(number, str) else ""
            if len(digits) in (9, 14) and is_digits(digits):  # a SIRET, or its SIREN
                self.sirens[identifier] = digits[:9]
        return self.sirens[identifier]

    def _dataset(self, http: Http, dataset: dict[str, Any]) -> Iterator[PublishedResource]:
        organisation = dataset.get("organization") or {}
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
                siren=self._siren(http, organisation), schema=schema,
                last_modified=resource.get("last_modified") or "",
                checksum=checksum_text(resource.get("checksum")),
                filesize=resource.get("filesize"), origins=(self.name,),
            )
