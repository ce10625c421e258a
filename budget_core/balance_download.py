"""Downloading a year of DGFiP balances from an Opendatasoft portal, one département at a time.

`where=ndept="038"` and `select=` (only the columns read), through the exports endpoint
(ods_export): a part is never more than a département of one year in memory or on the wire,
each part is stored when complete (`_parts/` of the balances folder), and a restarted
download fetches only the missing ones. The list of parts is the portal's own (`ndept`
values of the year, one export grouped by ndept). The year is then rebuilt from every part
held (`BalanceStore.publish_parts`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from budget_core.balance_csv import ROW_SCHEMA, USED, canonical
from budget_core.balances import LEVELS, BalanceStore, ImportReport, convert_csv, dataset_id
from budget_core.errors import BudgetError, CacheError, PortalError
from budget_core.fsutil import held_lock
from budget_core.http import Http
from budget_core.numbers import last_plausible_year
from budget_core.ods_export import dataset_fields, download_export, export_url
from budget_core.sources import load_portals

Progress = Callable[[int, int, str], None]
SOURCE = "data.economie.gouv.fr"  # the registry's portal of the balances
# What a part's code may be: it names a file and goes into the `where` filter.
DEPARTEMENT = re.compile(r"[0-9A-Z]{3}")
FIRST_BALANCE_YEAR = 2010  # the first year the DGFiP published


def download(store: BalanceStore, http: Http, portal: str, level: str, year: int, *,
             departements: Sequence[str] = (), progress: Progress | None = None
             ) -> ImportReport:
    """Fetch a year one département at a time (`where=ndept="038"`, only the columns
    used), each part stored when complete, then rebuild the year from every part held.
    Without `departements`, the portal's own list of `ndept` values is asked first."""
    dataset = dataset_id(level, year)
    if not FIRST_BALANCE_YEAR <= year <= last_plausible_year():
        # `--year -5` asked the portal for « balances-comptables-des-communes-en--5 »
        raise BudgetError(f"exercice {year} invalide pour les balances comptables.",
                          hint=f"Les balances sont publiées depuis {FIRST_BALANCE_YEAR} : "
                               f"donnez une année de {FIRST_BALANCE_YEAR} à "
                               f"{last_plausible_year()}.")
    by_year = "" if "{year}" in LEVELS[level] else f'exer="{year}"'
    # A user's « 38 » or « 2a » is the portal's « 038 », « 02A »
    parts = ([code.strip().upper().zfill(3) for code in departements]
             or _departements(http, portal, dataset, by_year))
    if bad := [code for code in parts if not DEPARTEMENT.fullmatch(code)]:
        raise PortalError(f"code(s) de département refusé(s) : {', '.join(bad[:5])}.",
                          source=portal, hint="Un code ndept s'écrit sur 3 caractères, "
                                              "chiffres ou lettres (038, 02A, 971).")
    if not parts:
        raise PortalError(f"le jeu {dataset} ne contient aucun département pour {year}.",
                          source=portal, hint="Vérifiez l'exercice : il n'est peut-être "
                                              "pas encore publié.")
    # The columns this dataset declares among those read: `categ` is missing before 2017 and
    # `cbudg` is `budget` before 2016, and asking for an absent field fails the export (400).
    select = [name for name, _ in dataset_fields(http, portal, dataset)
              if canonical(name) in USED]
    folder = store.year_dir(level, year, "_parts")
    with held_lock(folder / ".download.lock", 0, CacheError(
            f"l'exercice {year} ({level}) est déjà en cours de téléchargement par un autre "
            "processus.", source=str(folder),
            hint="Attendez la fin de ce téléchargement puis réessayez.")):
        # What a download killed mid-way left (a part's file, its parquet piece: up to the
        # size of a département each), never published, never removed until now.
        for stale in (*folder.glob(".download-*.part"), *folder.glob(".piece-*.parquet")):
            stale.unlink(missing_ok=True)
        _fetch_parts(http, portal, dataset, year, by_year, parts, select, folder, progress)
    held = sorted(folder.glob("ndept=*.parquet"))
    report = store.publish_parts(level, year, held)
    report.parts = [p.stem.split("=", 1)[1] for p in held]
    return report


def _fetch_parts(http: Http, portal: str, dataset: str, year: int, by_year: str,
                 parts: Sequence[str], select: Sequence[str], folder: Path,
                 progress: Progress | None) -> None:
    """Each missing part, fetched, checked and stored under its département's name."""
    for number, code in enumerate(parts, start=1):
        if progress:
            progress(number, len(parts), code)
        target = folder / f"ndept={code}.parquet"
        if target.exists():
            continue
        where = " and ".join(filter(None, (by_year, f'ndept="{code}"')))
        url = export_url(portal, dataset, select=select, where=where)
        csv_path = download_export(http, url, folder)
        try:
            piece = convert_csv(csv_path, f"{dataset} ndept={code}", folder)
        finally:
            csv_path.unlink()
        if problem := _foreign_rows(piece, year, code):
            for path in piece.values():
                path.unlink(missing_ok=True)
            raise PortalError(f"la part {code} contient {problem} : le portail n'a pas "
                              "appliqué le filtre « where », elle n'est pas gardée.",
                              source=url, hint="Réessayez plus tard, ou signalez-le au "
                                               "portail ; rien n'a été publié.")
        if year in piece:
            piece[year].replace(target)
        else:  # an empty part (no budget there this year) is still a part done
            empty = folder / f".piece-empty-{code}.parquet"  # written whole, then named
            pq.write_table(ROW_SCHEMA.empty_table(), empty)
            empty.replace(target)


def _foreign_rows(piece: dict[int, Path], year: int, code: str) -> str:
    """What a part holds that it was not asked for (other years, other départements): a
    portal ignoring `where` would otherwise give each part the whole year, counted once per
    département."""
    if others := sorted(set(piece) - {year}):
        return f"d'autres exercices que {year} ({', '.join(map(str, others[:5]))})"
    if year in piece:
        found = pc.unique(pq.read_table(piece[year], columns=["ndept"])["ndept"]).to_pylist()
        if others_dept := sorted(str(d) for d in found if d != code):
            return f"d'autres départements ({', '.join(others_dept[:5])})"
    return ""


def _departements(http: Http, portal: str, dataset: str, by_year: str) -> list[str]:
    """The dataset's `ndept` values (one export grouped by ndept: a few kB)."""
    url = export_url(portal, dataset, fmt="json", select=("ndept",), where=by_year,
                     group_by="ndept")
    answer = http.json("GET", url)
    if not isinstance(answer, list) or not all(
            isinstance(r, dict) and isinstance(r.get("ndept"), str) for r in answer):
        raise PortalError("liste des départements illisible (liste d'objets « ndept » "
                          "attendue).", source=url,
                          hint="Précisez les départements avec --departement.")
    return sorted(r["ndept"] for r in answer)


def portal_url(cache_dir: Path, source: str = SOURCE) -> str:
    """The address of a portal of the registry (shipped, or the user's `portals.toml`)."""
    found = next((p.url for p in load_portals(cache_dir) if p.name == source), None)
    if found is None:
        raise PortalError(f"aucun portail nommé « {source} » dans le registre.",
                          hint="Ajoutez-le à portals.toml ou donnez son adresse (--portal).")
    return found


def import_bytes(store: BalanceStore, data: bytes, name: str, level: str) -> ImportReport:
    """Import an export received whole (an upload in the app) through a file of the system's
    temporary folder, removed afterwards whatever happens (and by the system, should the
    process be killed: not in the balances folder, where it would stay)."""
    with tempfile.NamedTemporaryFile(prefix="balances-", suffix=".csv", delete=False) as work:
        path = Path(work.name)
    try:
        path.write_bytes(data)
        return store.import_csv(path, level, name)
    finally:
        path.unlink(missing_ok=True)
