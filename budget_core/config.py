"""Configuration in one place: where the data is. Tests and users point it with variables.

- `BUDGET_CACHE_DIR`: the local cache filled from the portals; default `data_cache/` of a
  checkout of the repository, else the user's cache folder (`platformdirs`:
  `~/.cache/budget-explorer` on Linux, `%LOCALAPPDATA%\\budget-explorer` on Windows) for an
  installed package.
- `BUDGET_DATA_DIR`: the store the app reads; default the cache when it holds a store,
  else the demo dataset shipped inside the package (`budget_core/data/demo/`), so a fresh
  clone or a fresh install works offline.
- `BUDGET_NATIONAL_DIR`: the OFGL national accounts; default `<cache>/national` once it holds
  a year, else the embedded sample (`budget_core/data/demo/national/`, Guadeloupe 2024).
- `BUDGET_MAX_UPLOAD_MB`: the largest upload the pages accept (200 MB).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

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
    data_dir: Path
    national_dir: Path
    max_upload_mb: int = 200

    @property
    def is_demo(self) -> bool:
        return self.data_dir.resolve() == DEMO_DIR.resolve()


def settings() -> Settings:
    cache = Path(os.environ.get("BUDGET_CACHE_DIR") or default_cache_dir())
    explicit = os.environ.get("BUDGET_DATA_DIR")
    if explicit:
        data = Path(explicit)
    elif (cache / "store" / "documents.parquet").exists():
        data = cache / "store"
    else:
        data = DEMO_DIR
    national = Path(os.environ.get("BUDGET_NATIONAL_DIR") or (
        cache / "national" if any((cache / "national").glob("*/year=*.parquet"))
        else DEMO_DIR / "national"))
    return Settings(cache_dir=cache, data_dir=data, national_dir=national,
                    max_upload_mb=int(os.environ.get("BUDGET_MAX_UPLOAD_MB", "200")))
