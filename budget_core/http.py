"""One HTTP client for every portal: timeouts, deadlines, address checks, size limits.

- retries on 429 and 5xx with exponential backoff, honouring `Retry-After` up to a cap
  (urllib3 Retry);
- a total deadline for every call, headers and body included: a server that drips one byte
  every few seconds never fires the per-read timeout, so a watchdog shuts the call's sockets
  down when its deadline passes;
- every connection is checked once connected, at every redirect hop: an address that is not
  public (loopback, private, link-local such as 169.254.169.254, shared, reserved...) is
  refused, unless its host is listed in `BUDGET_ALLOWED_PRIVATE_HOSTS` (see config.py);
- API answers are read with a size cap after decompression (no gzip bomb, no endless body);
- downloads are streamed to a temporary file with a size limit, a SHA-256 and the checksum and
  size the portal announced, checked; conditional GET (ETag / Last-Modified);
- every failure becomes a `PortalError` with a French message.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.util.retry import Retry

from budget_core.errors import PortalError

USER_AGENT = "budget-explorer/0.1 (explorateur open source des budgets des collectivités)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
MAX_API_BYTES = 64 * 1024 * 1024
MAX_RETRY_AFTER = 30.0
CHUNK = 1024 * 1024


class RefusedAddress(Exception):
    """A connection reached an address that is not public and not allowed.

    Not an OSError on purpose: urllib3 retries OSErrors, this one goes straight out."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} → {address}")
        self.host = host
        self.address = address


class DeadlineExceeded(Exception):
    """The call's total deadline passed (likewise not retried by urllib3)."""


# IPv6 ranges that carry or reach an IPv4 address, or are deprecated: a public portal never
# lives there, and each could lead to loopback or a private network.
_IPV6_TRANSITION = tuple(ipaddress.IPv6Network(net) for net in (
    "::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48",
    "2002::/16", "2001::/32", "fec0::/10"))


def is_public(address: str) -> bool:
    """An address on the public internet (an IPv4-mapped IPv6 address is judged as IPv4;
    other IPv6 forms that embed an IPv4 address, and site-local ones, are not public)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(ip in net for net in _IPV6_TRANSITION):
            return False
    return ip.is_global and not ip.is_multicast


class _Watch:
    """The sockets of one call, shut down together when its deadline passes (the socket, not
    the connection object: a response read to its end may hold a socket its connection has
    already let go)."""

    def __init__(self, seconds: float) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self.ends = time.monotonic() + seconds
        self._lock = threading.Lock()

    def add(self, sock: socket.socket | None) -> None:
        with self._lock:
            if self.expired:
                raise DeadlineExceeded
            if sock is not None:
                self.sockets.append(sock)
                _owners[sock] = self  # a pooled socket belongs to the call using it now

    def left(self) -> float:
        return self.ends - time.monotonic()

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self.sockets:
                if _owners.get(sock) is self:  # unless another thread's call took it over
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)


def _watch() -> _Watch | None:
    """The deadline of the call running in this thread, if any."""
    return getattr(_current, "watch", None)


_current = threading.local()
_owners: weakref.WeakKeyDictionary[socket.socket, _Watch] = weakref.WeakKeyDictionary()


def _guarded_pools(allowed: frozenset[str]) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pools whose connections check the address they reached, and which put
    every request under the calling thread's deadline."""

    def refuse(connection: HTTPConnection, address: str) -> None:
        if not is_public(address) and not {connection.host.lower(), address} & allowed:
            raise RefusedAddress(connection.host, address)

    def connect(connection: HTTPConnection, new_conn: Any) -> socket.socket:
        # Before connecting: every address the name resolves to, so that no packet goes to a
        # refused one; after: the peer actually reached, in case the name resolved otherwise
        # the second time (DNS rebinding).
        with contextlib.suppress(OSError, UnicodeError):  # unresolvable: urllib3 says so below
            for *_, sockaddr in socket.getaddrinfo(connection.host, connection.port,
                                                   type=socket.SOCK_STREAM):
                refuse(connection, str(sockaddr[0]))
        sock: socket.socket = new_conn()
        try:
            refuse(connection, str(sock.getpeername()[0]))
            if (watch := _watch()) is not None:
                watch.add(sock)
        except (RefusedAddress, DeadlineExceeded):
            sock.close()
            raise
        return sock

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return connect(self, super()._new_conn)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return connect(self, super()._new_conn)

    def make_request(base: type[HTTPConnectionPool]) -> Any:
        def _make_request(self: HTTPConnectionPool, conn: HTTPConnection, *args: Any,
                          **kwargs: Any) -> Any:
            if (watch := _watch()) is not None:
                watch.add(conn.sock)  # a kept-alive socket; a new one is added on connecting
            return base._make_request(self, conn, *args, **kwargs)
        return _make_request

    http_pool = type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {
        "ConnectionCls": GuardedHTTPConnection,
        "_make_request": make_request(HTTPConnectionPool)})
    https_pool = type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {
        "ConnectionCls": GuardedHTTPSConnection,
        "_make_request": make_request(HTTPSConnectionPool)})
    return {"http": http_pool, "https": https_pool}


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, allowed: frozenset[str], **kwargs: Any) -> None:
        self._pools = _guarded_pools(allowed)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools


class _CappedRetry(Retry):
    """Honours `Retry-After`, but never sleeps more than MAX_RETRY_AFTER at once."""

    def get_retry_after(self, response: Any) -> float | None:
        """Capped, and never past the call's deadline; a malformed header (a date in year
        99999, 5 000 digits) is ignored rather than raised."""
        try:
            wait = super().get_retry_after(response)
        except (ValueError, OverflowError):
            return None
        if wait is None:
            return None
        watch = _watch()
        return max(0.0, min(wait, MAX_RETRY_AFTER, watch.left() if watch else wait))


def allowed_private_hosts() -> frozenset[str]:
    """Hosts allowed although their address is not public (`BUDGET_ALLOWED_PRIVATE_HOSTS`)."""
    listed = os.environ.get("BUDGET_ALLOWED_PRIVATE_HOSTS", "")
    return frozenset(host.strip().strip("[]").lower() for host in listed.split(",")
                     if host.strip())


def make_session(retries: int = 3, backoff: float = 0.5,
                 allowed_hosts: Iterable[str] | None = None) -> requests.Session:
    """A session that retries idempotent calls (and portal searches sent as POST) and refuses
    non-public addresses but for `allowed_hosts` (default: `BUDGET_ALLOWED_PRIVATE_HOSTS`)."""
    allowed = (allowed_private_hosts() if allowed_hosts is None
               else frozenset(host.lower() for host in allowed_hosts))
    session = requests.Session()
    retry = _CappedRetry(total=retries, connect=retries, read=retries, status=retries,
                         backoff_factor=backoff, status_forcelist=RETRY_STATUSES,
                         allowed_methods={"GET", "HEAD", "POST"},
                         respect_retry_after_header=True, raise_on_status=False)
    adapter = _GuardedAdapter(allowed, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def parse_checksum(text: str) -> tuple[str, str] | None:
    """`sha1:ac6f…`, `md5:…` or a bare hex digest (its length says md5, sha1 or sha256) as
    (hashlib name, lower-case digest); None when nothing usable is given."""
    kind, _, digest = text.strip().rpartition(":")
    kind, digest = kind.strip().lower().replace("-", "_"), digest.strip().lower()
    if not kind:
        kind = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}.get(len(digest), "")
    # `sha-256` and `sha3-256` as portals write them: hashlib's `sha256`, `sha3_256`.
    kind = next((k for k in (kind, kind.replace("_", "")) if k in hashlib.algorithms_guaranteed
                 and not k.startswith("shake")), "")
    if not kind or not digest or any(c not in "0123456789abcdef" for c in digest):
        return None
    return (kind, digest) if len(digest) == 2 * hashlib.new(kind).digest_size else None


@dataclass
class Http:
    """The session plus the limits every call uses."""

    session: requests.Session
    timeout: float = 30.0  # per connection attempt and per read
    max_bytes: int = MAX_DOWNLOAD_BYTES
    max_api_bytes: int = MAX_API_BYTES
    api_deadline: float = 120.0  # a whole API call, retries included
    download_deadline: float = 1800.0  # a whole download (500 MB at about 2.3 Mbit/s)

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Call a portal API and decode its JSON answer (at most `max_api_bytes`)."""
        with self._deadline(url, self.api_deadline) as watch:
            response = self._send(watch, method, url, stream=True, **kwargs)
            body = bytearray()
            with response:
                for chunk in self._chunks(watch, response, url):
                    body += chunk
                    if len(body) > self.max_api_bytes:
                        raise PortalError(
                            f"réponse trop volumineuse (plus de "
                            f"{self.max_api_bytes // 1_000_000} Mo une fois décompressée).",
                            source=url, hint="Le portail a peut-être changé d'API ; vérifiez "
                                             "son adresse dans le registre des portails.")
            if watch.expired:  # the watchdog's shutdown reads as an end of body: cut short
                raise DeadlineExceeded
        try:
            return json.loads(bytes(body))
        except (ValueError, RecursionError) as exc:
            kind = response.headers.get("Content-Type", "?")
            raise PortalError(f"réponse illisible (JSON attendu, reçu « {kind} »).",
                              source=url, hint="Le portail a peut-être changé d'API ; "
                              "vérifiez son adresse dans le registre des portails.") from exc

    @contextlib.contextmanager
    def _deadline(self, url: str, seconds: float) -> Iterator[_Watch]:
        watch = _Watch(seconds)
        timer = threading.Timer(seconds, watch.expire)
        timer.daemon = True
        previous = _watch()
        _current.watch = watch
        timer.start()
        try:
            yield watch
        except DeadlineExceeded as exc:
            raise self._too_long(url, seconds) from exc
        finally:
            timer.cancel()
            _current.watch = previous

    @staticmethod
    def _too_long(url: str, seconds: float) -> PortalError:
        return PortalError(f"pas de réponse complète en {seconds:.0f} s.", source=url,
                           hint="Le serveur est trop lent ou ne répond plus : réessayez plus "
                                "tard.")

    def _send(self, watch: _Watch, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except RefusedAddress as exc:
            raise PortalError(f"adresse refusée : {exc.host} mène à {exc.address}, une adresse "
                              "qui n'est pas publique.", source=url,
                              hint="Un portail public ne renvoie jamais vers un réseau privé. "
                                   "Pour un portail interne, ajoutez son hôte à "
                                   "BUDGET_ALLOWED_PRIVATE_HOSTS.") from exc
        except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema) as exc:
            raise PortalError("adresse refusée : seules les adresses http et https sont suivies "
                              f"({exc}).", source=url,
                              hint="Signalez au portail ce lien ou cette redirection.") from exc
        except requests.RequestException as exc:
            if watch.expired:
                raise DeadlineExceeded from exc
            if not _is_timeout(exc):
                raise PortalError(f"connexion impossible ({type(exc).__name__}).", source=url,
                                  hint="Vérifiez le réseau ou l'adresse du portail.") from exc
            raise PortalError(f"pas de réponse en {self.timeout:.0f} s.", source=url,
                              hint="Réessayez plus tard.") from exc
        if watch.expired:  # headers cut short by the watchdog read as complete ones
            response.close()
            raise DeadlineExceeded
        if response.status_code >= 400:
            said = _portal_message(response)
            response.close()
            answer = f"le serveur a répondu {response.status_code} {response.reason}" + (
                f" : « {said} »." if said else ".")
            if said and response.status_code == 400:  # a query refused as written (an
                # Opendatasoft field that no longer exists); a 404 or 503 says its own
                raise PortalError(answer, source=url,
                                  hint="Le portail a refusé la requête telle quelle : il a "
                                       "peut-être renommé ses champs ; signalez-le avec ce "
                                       "message.")
            raise PortalError(answer, source=url,
                              hint="Réessayez plus tard ; si l'erreur persiste, la ressource "
                                   "a peut-être été retirée.")
        return response

    @staticmethod
    def _chunks(watch: _Watch, response: requests.Response, url: str) -> Iterator[bytes]:
        """The body, decompressed, in chunks of at most CHUNK bytes."""
        try:
            yield from response.iter_content(CHUNK)
        except requests.RequestException as exc:
            if watch.expired:
                raise DeadlineExceeded from exc
            raise PortalError(f"transfert interrompu ({type(exc).__name__}) : contenu "
                              "incomplet, non conservé.", source=url,
                              hint="Relancez la synchronisation.") from exc

    def download(self, url: str, folder: Path, *, etag: str = "", last_modified: str = "",
                 expected_size: int | None = None, expected_checksum: str = "") -> Download:
        """Stream `url` into a temporary file of `folder` (same disk as the cache).

        Returns `Download(path=None)` when the server says the file has not changed (304).
        The size and checksum the portal announced, when it gave them, must match what was
        received. The caller owns the temporary file: it moves it into place or deletes it.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        announced = parse_checksum(expected_checksum)
        with self._deadline(url, self.download_deadline) as watch:
            response = self._send(watch, "GET", url, headers=headers, stream=True)
            if response.status_code == 304:
                response.close()
                if not headers:
                    raise PortalError("le serveur a répondu « non modifié » (304) à une "
                                      "demande qui n'était pas conditionnelle.", source=url,
                                      hint="Réessayez plus tard ; le portail est peut-être "
                                           "mal configuré.")
                return Download(None, "", 0, etag, last_modified)
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".part")
            path = Path(name)
            digest, size = hashlib.sha256(), 0
            check = hashlib.new(announced[0]) if announced else None
            try:
                with os.fdopen(fd, "wb") as out, response:
                    for chunk in self._chunks(watch, response, url):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise PortalError(f"fichier trop volumineux (plus de "
                                              f"{self.max_bytes // 1_000_000} Mo).", source=url)
                        digest.update(chunk)
                        if check is not None:
                            check.update(chunk)
                        out.write(chunk)
                if watch.expired:  # the watchdog's shutdown reads as an end of file
                    raise DeadlineExceeded
                _verify(url, size, expected_size, check, announced)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return Download(path, digest.hexdigest(), size, response.headers.get("ETag", ""),
                        response.headers.get("Last-Modified", ""))


def _portal_message(response: requests.Response) -> str:
    """What a portal's JSON error says (Opendatasoft: `{"error_code", "message"}`), from its
    first 4 kB at most; empty for any other body."""
    if "json" not in response.headers.get("Content-Type", ""):
        return ""
    try:
        head = next(response.iter_content(4096), b"")
        message = json.loads(head).get("message") if head else None
    except (ValueError, AttributeError, requests.RequestException):
        return ""
    return " ".join(message.split())[:300] if isinstance(message, str) else ""


def _verify(url: str, size: int, expected_size: int | None, check: Any,
            announced: tuple[str, str] | None) -> None:
    """The file received is the one the portal describes, or it is not kept."""
    hint = ("Le fichier a peut-être été coupé en route, ou le portail décrit une autre "
            "version : relancez la synchronisation ; la copie précédente est conservée.")
    if expected_size and size != expected_size:
        raise PortalError(f"fichier reçu de {size} octets, le portail en annonce "
                          f"{expected_size} : non conservé.", source=url, hint=hint)
    if check is not None and announced is not None and check.hexdigest() != announced[1]:
        raise PortalError(f"somme de contrôle {announced[0]} différente de celle qu'annonce "
                          "le portail : fichier non conservé.", source=url, hint=hint)


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
