"""One HTTP client for every portal: timeouts, retries with backoff, streaming downloads.

- retries on 429 and 5xx with exponential backoff, honouring `Retry-After` (urllib3 Retry);
- a clear User-Agent; gzip handled by requests;
- downloads streamed to a temporary file with a size limit and a SHA-256, conditional GET
  (ETag / Last-Modified) so an unchanged file is not downloaded again;
- every failure becomes a `PortalError` with a French message.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.util.retry import Retry

from budget_core.errors import PortalError

USER_AGENT = "budget-explorer/0.1 (explorateur open source des budgets des collectivités)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
CHUNK = 1024 * 1024


def make_session(retries: int = 3, backoff: float = 0.5) -> requests.Session:
    """A session that retries idempotent calls (and portal searches sent as POST)."""
    session = requests.Session()
    retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                  backoff_factor=backoff, status_forcelist=RETRY_STATUSES,
                  allowed_methods={"GET", "HEAD", "POST"}, respect_retry_after_header=True,
                  raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


@dataclass
class Http:
    """The session plus the limits every call uses."""

    session: requests.Session
    timeout: float = 30.0
    max_bytes: int = MAX_DOWNLOAD_BYTES

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Call a portal API and decode its JSON answer."""
        response = self._send(method, url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "?")
            raise PortalError(f"réponse illisible (JSON attendu, reçu « {kind} »).",
                              source=url, hint="Le portail a peut-être changé d'API ; "
                              "vérifiez son adresse dans le registre des portails.") from exc

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL) as exc:
            raise PortalError("adresse refusée : seules les adresses http et https sont suivies "
                              f"({exc}).", source=url,
                              hint="Signalez au portail ce lien ou cette redirection.") from exc
        except requests.RequestException as exc:
            if not _is_timeout(exc):
                raise PortalError(f"connexion impossible ({type(exc).__name__}).", source=url,
                                  hint="Vérifiez le réseau ou l'adresse du portail.") from exc
            raise PortalError(f"pas de réponse en {self.timeout:.0f} s.", source=url,
                              hint="Réessayez plus tard.") from exc
        if response.status_code >= 400:
            raise PortalError(f"le serveur a répondu {response.status_code} "
                              f"{response.reason}.", source=url,
                              hint="Réessayez plus tard ; si l'erreur persiste, la ressource "
                                   "a peut-être été retirée.")
        return response

    def download(self, url: str, folder: Path, *, etag: str = "",
                 last_modified: str = "") -> Download:
        """Stream `url` into a temporary file of `folder` (same disk as the cache).

        Returns `Download(path=None)` when the server says the file has not changed (304).
        The caller owns the temporary file: it moves it into place or deletes it.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = self._send("GET", url, headers=headers, stream=True)
        if response.status_code == 304:
            response.close()
            return Download(None, "", 0, etag, last_modified)
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".part")
        path = Path(name)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out, response:
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise PortalError(f"fichier trop volumineux (plus de "
                                          f"{self.max_bytes // 1_000_000} Mo).", source=url)
                    digest.update(chunk)
                    out.write(chunk)
        except requests.RequestException as exc:
            path.unlink(missing_ok=True)
            raise PortalError(f"téléchargement interrompu ({type(exc).__name__}) : fichier "
                              "incomplet, non conservé.", source=url,
                              hint="Relancez la synchronisation.") from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Download(path, digest.hexdigest(), size, response.headers.get("ETag", ""),
                        response.headers.get("Last-Modified", ""))


def _is_timeout(exc: requests.RequestException) -> bool:
    """Timeouts that outlived the retries arrive as ConnectionError(MaxRetryError(timeout))."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, TimeoutError | ReadTimeoutError | ConnectTimeoutError)


@dataclass(frozen=True)
class Download:
    path: Path | None  # None: not modified since the last download
    sha256: str
    size: int
    etag: str
    last_modified: str
