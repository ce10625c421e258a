"""A local HTTP server on 127.0.0.1 that answers like the real portal APIs, for offline tests.

It serves udata (data.gouv.fr), Opendatasoft Explore v2.1, CKAN and GeoNetwork 4 catalogue
answers, built from the recorded payloads of tests/fixtures/api (real shapes, ids and URLs
replaced), and real budget files as their resources, with real ETag / Last-Modified / 304.
Faults are injected per path: `server.faults["/files/x.xml"] = ["500", "429", "slow",
"truncate", "html", "gzip", "delay", "redirect_file"]`, each consumed by one request; the
hostile ones: "drip" (one byte every 0.2 s), "endless" (a body that never ends), "gzip_bomb"
(1 GB of zeros in about 1 MB of gzip), "short_length" (a Content-Length half the body),
"self_next" (a udata page whose next page is itself), "redirect" (to `redirect_target`),
"payload" (the JSON of `hostile_payload` instead of the page), "slow_close" (a file without
Content-Length, its end told by closing, sent slowly), "not_modified" (304 to anything),
"retry_after_30" and "retry_after_huge" (503 with a Retry-After of 30 s or of 5 000 digits),
"deep_json" (100 000 nested lists). Every hostile answer stops by itself within about 30 s,
whether or not the client goes away. "slow" answers after
`slow_seconds` (longer than the client's timeout under test), "delay" after 0.4 s (slow
enough to catch a sync in the middle).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import gzip
import hashlib
import json
import re
import threading
import time
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

FIXTURES = Path(__file__).parent / "fixtures"
API = FIXTURES / "api"
LAST_MODIFIED = "Wed, 01 Mar 2023 10:00:00 GMT"
NOT_FOUND = ("The requested URL was not found on the server. If you entered the URL "
             "manually please check your spelling and try again.")


class PortalServer:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.faults: dict[str, list[str]] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[str] = []  # every path with its query, in order
        self.not_modified: Counter[str] = Counter()
        # What each portal publishes: names of files under /files/.
        self.udata_files: list[str] = []
        self.ckan_files: list[str] = []
        self.geonetwork_files: list[str] = []
        self.ods_datasets: dict[str, str] = {}  # dataset_id → file name of its CSV export
        # dataset_id → `;` CSV that exports filter (refine, where), cut (select), group (json)
        self.ods_tables: dict[str, bytes] = {}
        # dataset_id → {API field name: label} (the CSV's header holds the names; an export
        # asked with use_labels=true writes the labels, as the catalogue record declares them)
        self.ods_labels: dict[str, dict[str, str]] = {}
        self.export_bytes: list[int] = []  # the size of each CSV export served, in order
        # udata organisation id → its SIRET (`business_number_id` of its own record only)
        self.udata_sirets = {"646b7187b50b2a93b1ae3d45": "21560046100010"}
        self.page_size = 2
        self.redirect_target = ""
        self.hostile_payload: Any = None
        self.slow_seconds = 1.5
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PortalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def publish(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"{self.url}/files/{name}"

    # -- payloads, from the recorded real ones ----------------------------------------------
    def udata_page(self, page: int, page_size: int, params: dict[str, str]) -> dict[str, Any]:
        template = json.loads((API / "udata_dataset.json").read_text(encoding="utf-8"))
        listing = json.loads((API / "udata_paginated_list.json").read_text(encoding="utf-8"))
        resource_template = template["resources"][0]
        datasets = []
        for number, name in enumerate(self.udata_files):
            dataset = copy.deepcopy(template)
            dataset["id"] = f"dataset-{number}"
            dataset["title"] = f"Budget publié {name}"
            resource = copy.deepcopy(resource_template)
            resource.update({
                "id": f"resource-{number}", "title": name, "url": f"{self.url}/files/{name}",
                "format": name.rsplit(".", 1)[-1], "filesize": len(self.files[name]),
                "checksum": {"type": "sha1",
                             "value": hashlib.sha1(self.files[name]).hexdigest()},
                "schema": {"name": "scdl/budget", "version": "0.8.3"}
                if name.endswith(".csv") else None,
            })
            notice = copy.deepcopy(resource_template)
            notice.update({"id": f"notice-{number}", "title": "notice.pdf", "format": "pdf",
                           "url": f"{self.url}/files/notice.pdf", "schema": None})
            dataset["resources"] = [resource, notice]
            datasets.append(dataset)
        start = (page - 1) * page_size
        listing["data"] = datasets[start:start + page_size]
        listing.update({"page": page, "page_size": page_size, "total": len(datasets)})
        more = start + page_size < len(datasets)
        query = "&".join(f"{k}={v}" for k, v in params.items() if k not in ("page",))
        listing["next_page"] = (f"{self.url}/api/1/datasets/?{query}&page={page + 1}"
                                if more else None)
        listing["previous_page"] = None
        return listing

    def udata_organisation(self, identifier: str) -> dict[str, Any] | None:
        """The recorded `GET /api/1/organizations/<id>/` answer, with this id and SIRET."""
        if identifier not in self.udata_sirets:
            return None
        record = json.loads((API / "udata_organization.json").read_text(encoding="utf-8"))
        record.update(id=identifier, business_number_id=self.udata_sirets[identifier])
        record["extras"]["siretisation:found_siret"] = self.udata_sirets[identifier]
        return record

    def ods_catalog(self, limit: int, offset: int) -> dict[str, Any]:
        results = [{
            "dataset_id": dataset_id, "has_records": True, "data_visible": True,
            "features": ["analyze"], "attachments": [], "alternative_exports": [],
            "fields": [{"name": "bgt_natdec", "label": "BGT_NATDEC", "type": "text"}],
            "metas": {"default": {"title": f"Budget {dataset_id}", "publisher": "Commune",
                                  "modified": "2023-03-01T10:00:00+00:00",
                                  "keyword": ["budget", "scdl"], "records_count": 20}},
        } for dataset_id in self.ods_datasets]
        return {"total_count": len(results), "_links": [],
                "results": results[offset:offset + limit]}

    def ods_export(self, dataset_id: str, params: dict[str, str]) -> bytes | list[Any]:
        """The dataset's CSV as the exports endpoint serves it. `refine=<facet>:<value>` keeps
        rows whose first column has the value (the OFGL year); `where` equalities
        `field="value"` joined by `and` (the balances' `exer` and `ndept`) keep matching rows;
        `select` keeps those columns in that order; `use_labels=true` heads them with their
        labels; `format=json` with `group_by=<field>` gives the distinct values as a list of
        objects, as exports/json does. A field the dataset lacks, in `select` or `where`, is
        refused as Opendatasoft refuses it: 400 and its ODSQLError (OdsQueryError)."""
        head, *rows = self.ods_tables[dataset_id].decode("utf-8-sig").split("\n")
        names = head.split(";")
        table = [dict(zip(names, row.split(";"), strict=True)) for row in rows if row]
        if params.get("refine"):
            value = params["refine"].split(":", 1)[1]
            table = [row for row in table if row[names[0]] == value]
        for field, value in re.findall(r'(\w+)\s*=\s*"([^"]*)"', params.get("where", "")):
            if field not in names:
                raise OdsQueryError(field, "where")
            table = [row for row in table if row[field] == value]
        if params.get("format") == "json":
            key = params["group_by"]
            return [{key: value} for value in sorted({row[key] for row in table})]
        chosen = params["select"].split(",") if params.get("select") else names
        for field in chosen:
            if field not in names:
                raise OdsQueryError(field, "select")
        labels = self.ods_labels.get(dataset_id, {})
        header = [labels.get(c, c) for c in chosen] if params.get("use_labels") == "true" \
            else chosen
        lines = [";".join(header), *(";".join(row[c] for c in chosen) for row in table)]
        body = ("\n".join(lines) + "\n").encode()
        self.export_bytes.append(len(body))
        return body

    def ckan_search(self, rows: int, start: int) -> dict[str, Any]:
        envelope = json.loads((API / "ckan_package_show.json").read_text(encoding="utf-8"))
        template = envelope["result"]
        packages = []
        for number, name in enumerate(self.ckan_files):
            package = copy.deepcopy(template)
            package.update({"id": f"package-{number}", "title": f"Budget {name}",
                            "name": f"budget-{number}"})
            resource = copy.deepcopy(template["resources"][0])
            resource.update({"id": f"ckan-resource-{number}", "name": name,
                             "url": f"{self.url}/files/{name}",
                             "format": name.rsplit(".", 1)[-1].upper(),
                             "hash": hashlib.md5(self.files[name]).hexdigest()})
            package["resources"] = [resource]
            packages.append(package)
        envelope["result"] = {"count": len(packages), "sort": "score desc",
                              "results": packages[start:start + rows]}
        return envelope

    def geonetwork_search(self, body: dict[str, Any]) -> dict[str, Any]:
        """Records in the two shapes of GeoNetwork 4's index, as recorded in geonetwork-ui's
        fixtures (an Elasticsearch answer of Sextant, GeoNetwork 4.0, and of geo.admin.ch,
        4.2+): even records as 4.2 writes them (`urlObject`/`nameObject` translated objects,
        lists); odd ones as 4.0 does (plain `url`, `name`, `organisation`), with their one
        link and one contact as single objects, the file's type only in the protocol
        (`WWW:DOWNLOAD:application/xml`) and a download URL without extension."""
        start, size = int(body.get("from", 0)), int(body.get("size", 10))
        hits = [{"_index": "gn-records", "_id": f"uuid-{number}", "_score": 1.0,
                 "_source": (self._gn_old if number % 2 else self._gn_new)(name)}
                for number, name in enumerate(self.geonetwork_files)]
        return {"took": 3, "timed_out": False,
                "hits": {"total": {"value": len(hits), "relation": "eq"},
                         "max_score": 1.0, "hits": hits[start:start + size]}}

    def _gn_new(self, name: str) -> dict[str, Any]:
        return {
            "resourceTitleObject": {"default": f"Budget {name}", "langfre": name},
            "contactForResource": [{"organisationObject": {"default": "Commune"},
                                    "role": "pointOfContact"}],
            "dateStamp": "2023-03-01T10:00:00.000Z",
            "link": [
                {"protocol": "OGC:WMS", "mimeType": "", "function": "browsing",
                 "urlObject": {"default": f"{self.url}/wms"},
                 "nameObject": {"default": "couche"}, "applicationProfile": "", "group": 0},
                {"protocol": "WWW:DOWNLOAD-1.0-http--download", "mimeType": "",
                 "function": "download", "urlObject": {"default": f"{self.url}/files/{name}"},
                 "nameObject": {"default": name}, "applicationProfile": "", "group": 0},
            ],
        }

    def _gn_old(self, name: str) -> dict[str, Any]:
        stem, extension = name.rsplit(".", 1)
        mime = "application/xml" if extension == "xml" else "text/csv"
        return {
            "resourceTitleObject": {"default": f"Budget {name}", "langfre": name},
            "contactForResource": {"organisation": "Commune", "role": "pointOfContact"},
            "dateStamp": "2023-03-01T10:00:00.000Z",
            "link": {"protocol": f"WWW:DOWNLOAD:{mime}", "url": f"{self.url}/telechargement/"
                     f"{stem}", "name": name, "description": "", "function": "download",
                     "applicationProfile": "", "group": 0},
        }

    # -- HTTP --------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                self._safely()

            def do_POST(self) -> None:
                self._safely()

            def _safely(self) -> None:
                # the client may give up (a timeout under test): nothing left to answer
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer()

            def _answer(self) -> None:
                parsed = urlparse(self.path)
                path = parsed.path
                server.hits[path] += 1
                server.requests.append(self.path)
                params = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                fault = (server.faults.get(path) or [None]).pop(0) if server.faults.get(
                    path) else None
                if fault in ("retry_after_30", "retry_after_huge"):
                    self.send_response(503)
                    self.send_header("Retry-After", "30" if fault == "retry_after_30"
                                     else "9" * 5000)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault == "not_modified":
                    self.send_response(304)
                    self.end_headers()
                    return
                if fault == "deep_json":
                    self._send(200, b"[" * 100_000 + b"]" * 100_000, "application/json")
                    return
                if fault in ("500", "429", "503"):
                    self.send_response(int(fault))
                    if fault == "429":
                        self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                if fault == "delay":
                    time.sleep(0.4)
                if fault == "redirect_file":
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/passwd")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault == "html":
                    self._send(200, b"<html>maintenance</html>", "text/html")
                    return
                if fault == "redirect":
                    self.send_response(302)
                    self.send_header("Location", server.redirect_target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault == "payload":
                    self._send(200, json.dumps(server.hostile_payload).encode(),
                               "application/json")
                    return
                if fault in ("drip", "endless"):
                    self._stream(fault)
                    return
                if fault == "gzip_bomb":
                    self._send(200, gzip_bomb(), "application/json", encoding="gzip")
                    return
                try:
                    body = self._route(path, params)
                except OdsQueryError as refused:
                    self._send(400, json.dumps(refused.answer).encode(), "application/json")
                    return
                if body is None:
                    # udata's API is a flask-restx one: a missing resource is its JSON 404
                    # with Werkzeug's description as `message`
                    self._send(404, json.dumps({"message": NOT_FOUND}).encode()
                               if path.startswith("/api/1/") else b"{}", "application/json")
                    return
                if fault == "self_next":
                    body["next_page"] = f"{server.url}{self.path}"
                if fault == "slow_close" and isinstance(body, bytes):
                    self._slow_close(body)
                    return
                if isinstance(body, bytes):
                    self._file(path, body, truncate=fault == "truncate",
                               short_length=fault == "short_length")
                elif fault == "gzip":
                    self._send(200, gzip.compress(json.dumps(body).encode("utf-8")),
                               "application/json", encoding="gzip")
                else:
                    self._send(200, json.dumps(body).encode("utf-8"), "application/json")

            def _route(self, path: str, params: dict[str, str]) -> Any:
                if path.startswith("/files/"):
                    return server.files.get(path.removeprefix("/files/"))
                if path.startswith("/telechargement/"):  # a download URL without extension
                    stem = path.removeprefix("/telechargement/")
                    return next((body for name, body in server.files.items()
                                 if name.rsplit(".", 1)[0] == stem), None)
                if path == "/api/1/datasets/":
                    return server.udata_page(int(params.get("page", 1)),
                                             int(params.get("page_size", server.page_size)),
                                             params)
                if path.startswith("/api/1/organizations/"):
                    return server.udata_organisation(path.split("/")[4])
                if path == "/api/explore/v2.1/catalog/datasets":
                    return server.ods_catalog(int(params.get("limit", 10)),
                                              int(params.get("offset", 0)))
                record = path.removeprefix("/api/explore/v2.1/catalog/datasets/")
                if record != path and record in server.ods_tables:  # a dataset's description
                    head = server.ods_tables[record].decode("utf-8-sig").split("\n", 1)[0]
                    labels = server.ods_labels.get(record, {})
                    return {"dataset_id": record, "has_records": True,
                            "fields": [{"name": n, "label": labels.get(n, n), "type": "text"}
                                       for n in head.split(";")]}
                if path.startswith("/api/explore/v2.1/catalog/datasets/") and \
                        path.endswith(("/exports/csv", "/exports/json")):
                    dataset_id = path.split("/")[-3]
                    if dataset_id in server.ods_tables:
                        return server.ods_export(
                            dataset_id, {**params, "format": path.rsplit("/", 1)[1]})
                    name = server.ods_datasets.get(dataset_id)
                    return server.files.get(name) if name else None
                if path == "/api/3/action/package_search":
                    return server.ckan_search(int(params.get("rows", 10)),
                                              int(params.get("start", 0)))
                if path == "/geonetwork/srv/api/search/records/_search":
                    length = int(self.headers.get("Content-Length") or 0)
                    return server.geonetwork_search(json.loads(self.rfile.read(length)))
                return None

            def _stream(self, fault: str) -> None:
                """One byte every 0.2 s, or 64 kB chunks without end, for 30 s at most."""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(10**12))
                self.end_headers()
                self.wfile.write(b"[")
                started = time.monotonic()
                while time.monotonic() - started < 30:
                    if fault == "drip":
                        time.sleep(0.2)
                        self.wfile.write(b" ")
                    else:
                        self.wfile.write(b"0," * 32_768)
                    self.wfile.flush()

            def _slow_close(self, body: bytes) -> None:
                """HTTP/1.0 style: no Content-Length, the end of the file is the end of the
                connection; 2 kB every 0.2 s (for 30 s at most)."""
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("ETag", '"slow"')
                self.end_headers()
                started = time.monotonic()
                for start in range(0, len(body), 2048):
                    if time.monotonic() - started > 30:
                        break
                    self.wfile.write(body[start:start + 2048])
                    self.wfile.flush()
                    time.sleep(0.2)
                self.close_connection = True

            def _file(self, path: str, body: bytes, truncate: bool,
                      short_length: bool = False) -> None:
                etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
                if self.headers.get("If-None-Match") == etag:
                    server.not_modified[path] += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length",
                                 str(len(body) // 2 if short_length else len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if truncate else body)
                if truncate:
                    self.wfile.flush()
                    self.close_connection = True

            def _send(self, status: int, body: bytes, kind: str, encoding: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                if encoding:
                    self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


class OdsQueryError(Exception):
    """A query naming a field the dataset lacks. Opendatasoft answers 400 with this JSON, as
    public clients of Explore v2.1 portals record it (an unknown field in `select`, in records
    and exports alike): « ODSQL query is malformed: Unknown field: <name>. Clause(s)
    containing the error(s): select. »"""

    def __init__(self, field: str, clause: str) -> None:
        super().__init__(field)
        self.answer = {"error_code": "ODSQLError",
                       "message": f"ODSQL query is malformed: Unknown field: {field}. "
                                  f"Clause(s) containing the error(s): {clause}."}


def api_names(labelled: bytes) -> tuple[bytes, dict[str, str]]:
    """An export written with labels (a real OFGL file) as this server keeps a dataset: the
    same rows headed by field names, and those names' labels. The names are this server's own
    (each label lower-cased, accents and signs folded to `_`): the client reads them from the
    catalogue record, as it must from the real portal, and never writes one itself."""
    head, rest = labelled.decode("utf-8-sig").split("\n", 1)
    labels = head.rstrip("\r").split(";")
    names = [re.sub(r"[^a-z0-9]+", "_", unicodedata.normalize("NFKD", label).encode(
        "ascii", "ignore").decode().lower()).strip("_") for label in labels]
    return (";".join(names) + "\n" + rest).encode(), dict(zip(names, labels, strict=True))


@functools.cache
def gzip_bomb() -> bytes:
    """1 GB of zeros gzipped (about 1 MB): compressed once, a megabyte at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    zeros = bytes(1 << 20)
    return b"".join([*(packer.compress(zeros) for _ in range(1024)), packer.flush()])


def running() -> Iterator[PortalServer]:
    server = PortalServer().start()
    try:
        yield server
    finally:
        server.stop()
