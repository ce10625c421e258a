"""Configuration in one place: where the data is. Tests and users point it with variables.

- `BUDGET_CACHE_DIR`: the local cache filled from the portals (default `data_cache/`).
- `BUDGET_DATA_DIR`: the store the app reads; default the cache when it holds a store,
  else the embedded demo dataset (`demo_data/`), so a fresh clone works offline.
- `BUDGET_NATIONAL_DIR`: the OFGL national accounts; default `<cache>/national` once it holds
  a year, else the embedded sample (`demo_data/national/`, Guadeloupe 2024).
- `BUDGET_MAX_UPLOAD_MB`: the largest upload the pages accept (200 MB).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "demo_data"


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
    cache = Path(os.environ.get("BUDGET_CACHE_DIR", ROOT / "data_cache"))
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
