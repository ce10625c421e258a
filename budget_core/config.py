"""Configuration in one place: where the data is. Tests and users point it with variables.

- `BUDGET_CACHE_DIR`: the local cache filled from the portals; default `data_cache/` of a
  checkout of the repository, else the user's cache folder (`platformdirs`:
  `~/.cache/budget-explorer` on Linux, `%LOCALAPPDATA%\\budget-explorer` on Windows) for an
  installed package.
- `BUDGET_DATA_DIR`: a store the app reads alone (tests, a prepared dataset). By default the
  app reads the cache's store (`<cache>/store`, where syncs and uploads add documents) over
  the demo dataset shipped inside the package (`budget_core/data/demo/`, read-only), so a
  fresh clone or a fresh install works offline and adding a document never hides the demo.
- `BUDGET_NATIONAL_DIR`: the OFGL national accounts; default `<cache>/national` once it holds
  a year, else the embedded sample (`budget_core/data/demo/national/`, Guadeloupe 2024).
- The DGFiP balances comptables live in `<cache>/balances` (`Settings.balances_dir`).
- `BUDGET_MAX_UPLOAD_MB`: the largest upload the pages accept (200 MB).
- `BUDGET_DUCKDB_THREADS`: DuckDB threads per query (the store, the national accounts);
  default every core of the machine (set it lower when several apps share a small server).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

from budget_core.errors import BudgetError
from budget_core.store import Store

PACKAGE = Path(__file__).resolve().parent
DEMO_DIR = PACKAGE / "data" / "demo"
# A checkout of the repository (app.py beside the package) keeps its cache in data_cache/.
CHECKOUT = PACKAGE.parent if (PACKAGE.parent / "app.py").exists() else None


def default_cache_dir() -> Path:
    if CHECKOUT is not None:
        return CHECKOUT / "data_cache"
    return Path(user_cache_dir("budget-explorer", appauthor=False))


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    data_dir: Path  # the store written to (and read)
    national_dir: Path
    max_upload_mb: int = 200
    with_demo: bool = True  # the embedded demo is read beneath data_dir
    duckdb_threads: int | None = None  # None: DuckDB's own default, every core

    @property
    def is_demo(self) -> bool:
        """Whether the demo documents are among those shown."""
        return self.with_demo or self.data_dir.resolve() == DEMO_DIR.resolve()

    @property
    def balances_dir(self) -> Path:
        """The DGFiP balances comptables (`balances.py`): `<cache>/balances`."""
        return self.cache_dir / "balances"

    def store(self) -> Store:
        return Store(self.data_dir, also=(DEMO_DIR,) if self.with_demo else (),
                     threads=self.duckdb_threads)


def settings() -> Settings:
    cache = Path(os.environ.get("BUDGET_CACHE_DIR") or default_cache_dir())
    explicit = os.environ.get("BUDGET_DATA_DIR")
    data = Path(explicit) if explicit else cache / "store"
    national = Path(os.environ.get("BUDGET_NATIONAL_DIR") or (
        cache / "national" if any((cache / "national").glob("*/year=*.parquet"))
        else DEMO_DIR / "national"))
    return Settings(cache_dir=cache, data_dir=data, national_dir=national,
                    max_upload_mb=int(os.environ.get("BUDGET_MAX_UPLOAD_MB", "200")),
                    with_demo=not explicit,
                    duckdb_threads=_threads(os.environ.get("BUDGET_DUCKDB_THREADS", "")))


def _threads(text: str) -> int | None:
    if not text:
        return None
    if not (text.isdigit() and int(text) > 0):
        raise BudgetError(f"BUDGET_DUCKDB_THREADS vaut « {text} » : un nombre entier de fils "
                          "d'exécution (1 ou plus) est attendu.",
                          hint="Corrigez la variable d'environnement ou supprimez-la pour "
                               "utiliser tous les cœurs.")
    return int(text)
