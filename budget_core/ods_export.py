"""Opendatasoft Explore v2.1 exports: the URL of an export and its download to a file.

Used by the OFGL national accounts (data.ofgl.fr) and the DGFiP balances
(data.economie.gouv.fr). What was checked, and where:
- `/api/explore/v2.1/catalog/datasets/<id>/exports/<format>` streams a whole (filtered) dataset
  with no row limit, unlike `/records` (100 rows a call): the Explore API's OpenAPI text
  (« the exports endpoint has no limitations »), also used that way by several public
  harvesters of these two portals;
- `select=` (the columns), `where=` (an ODSQL filter such as `ndept="038"` or
  `startswith(compte,'6574')`), `refine=<facet>:<value>`, `delimiter=;` and `group_by=`
  (« group_by clause is now available on export endpoints », v2.1 changelog) are parameters
  of the export endpoint;
- `/api/explore/v2.1/catalog/datasets/<id>` describes a dataset, its columns in `fields`
  (each with its `name`): a harvester of data.economie.gouv.fr reads them there;
- not checked against a live answer here (no network): how each portal orders rows, and
  whether it sends `Content-Length` for an export (the download does not rely on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

from budget_core.errors import PortalError
from budget_core.http import Http

DATASET = "/api/explore/v2.1/catalog/datasets/{dataset}"
EXPORTS = DATASET + "/exports/{fmt}"


def dataset_url(portal: str, dataset: str) -> str:
    """The catalogue record of a dataset: its metadata and `fields` (name, type, label)."""
    return portal.rstrip("/") + DATASET.format(dataset=quote(dataset, safe=""))


def dataset_fields(http: Http, portal: str, dataset: str) -> list[tuple[str, str]]:
    """The fields a dataset declares, as (API name, label) pairs (`fields[].name` and
    `.label` of its catalogue record, the label empty when none): `select=` and `where=` take
    the names, `use_labels=true` writes the labels in the export's header."""
    url = dataset_url(portal, dataset)
    answer = http.json("GET", url)
    fields = answer.get("fields") if isinstance(answer, dict) else None
    if not isinstance(fields, list) or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields):
        raise PortalError("description du jeu illisible (liste « fields » attendue).",
                          source=url, hint="Le portail a peut-être changé d'API.")
    return [(f["name"], f["label"] if isinstance(f.get("label"), str) else "")
            for f in fields]


def export_url(portal: str, dataset: str, *, fmt: str = "csv", select: Sequence[str] = (),
               where: str = "", refine: str = "", group_by: str = "",
               use_labels: bool = False) -> str:
    """The export URL of `dataset` on `portal` (its base URL), parameters encoded."""
    params: dict[str, str] = {}
    if fmt == "csv":
        params["delimiter"] = ";"
    if select:
        params["select"] = ",".join(select)
    if where:
        params["where"] = where
    if refine:
        params["refine"] = refine
    if group_by:
        params["group_by"] = group_by
    if use_labels:
        params["use_labels"] = "true"
    path = EXPORTS.format(dataset=quote(dataset, safe=""), fmt=fmt)
    query = urlencode(params, quote_via=quote)
    return f"{portal.rstrip('/')}{path}" + (f"?{query}" if query else "")


def download_export(http: Http, url: str, folder: Path) -> Path:
    """Stream an export into a temporary file of `folder` (size cap and deadline of `http`).

    The caller owns the file: it moves it into place or deletes it. An export is never a
    conditional request, so the file is always new.
    """
    download = http.download(url, folder)
    if download.path is None:  # only a conditional request gets a 304; this one is not
        raise PortalError("le serveur a répondu « non modifié » à un export.", source=url,
                          hint="Réessayez plus tard.")
    return download.path
