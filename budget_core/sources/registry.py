"""The registry of configured portals: `budget_core/data/portals.toml` plus the user's file.

A user adds a portal without code by writing a `[[portal]]` table (name, kind, url, and the
kind's options) in `portals.toml` of the cache folder (or the file `BUDGET_PORTALS` names).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from budget_core.errors import PortalError
from budget_core.sources.base import Source
from budget_core.sources.ckan import CkanSource
from budget_core.sources.geonetwork import GeonetworkSource
from budget_core.sources.opendatasoft import OpendatasoftSource
from budget_core.sources.udata import UdataSource

KINDS: dict[str, type] = {"udata": UdataSource, "opendatasoft": OpendatasoftSource,
                          "ckan": CkanSource, "geonetwork": GeonetworkSource}


@dataclass(frozen=True)
class Portal:
    name: str
    kind: str
    url: str
    description: str = ""
    enabled: bool = True  # a disabled portal is synced only when named (--source)
    options: dict[str, Any] = field(default_factory=dict)


def _parse(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PortalError(f"registre des portails illisible ({exc}).", source=origin,
                          hint="Corrigez la syntaxe TOML du fichier.") from exc


def _read(data: dict[str, Any], origin: str) -> list[Portal]:
    portals = []
    for entry in data.get("portal", []):
        entry = dict(entry)
        try:
            name, kind, url = entry.pop("name"), entry.pop("kind"), entry.pop("url")
        except KeyError as exc:
            raise PortalError(f"un portail du registre n'a pas de « {exc.args[0]} ».",
                              source=origin, hint="Chaque [[portal]] a name, kind et url."
                              ) from exc
        if kind not in KINDS:
            raise PortalError(f"type de portail « {kind} » inconnu pour « {name} ».",
                              source=origin, hint=f"Types connus : {', '.join(KINDS)}.")
        portals.append(Portal(name, kind, url, entry.pop("description", ""),
                              bool(entry.pop("enabled", True)), entry))
    return portals


def load_portals(cache_dir: Path | None = None) -> list[Portal]:
    """Shipped portals, then the user's (a user portal with the same name replaces one).

    A user file with `replace = true` at its top stands alone: the shipped portals are
    dropped (a private deployment, or tests that must not reach the internet).
    """
    shipped = resources.files("budget_core.data").joinpath("portals.toml").read_text("utf-8")
    portals = {p.name: p for p in _read(_parse(shipped, "portals.toml"), "portals.toml")}
    user = os.environ.get("BUDGET_PORTALS") or (
        str(cache_dir / "portals.toml") if cache_dir else "")
    if user and Path(user).exists():
        data = _parse(Path(user).read_text("utf-8"), user)
        if data.get("replace"):
            portals = {}
        portals.update({p.name: p for p in _read(data, user)})
    return list(portals.values())


def source_for(portal: Portal) -> Source:
    try:
        return KINDS[portal.kind](name=portal.name, url=portal.url, **portal.options)
    except TypeError as exc:
        raise PortalError(f"option inconnue pour le portail « {portal.name} » ({exc}).",
                          source="portals.toml") from exc
