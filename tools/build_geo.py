"""Rebuild budget_core/data/geo/ from gregoiredavid/france-geojson (IGN Admin Express, COG 2018).

Usage: python tools/build_geo.py ../shared/data/geo/france-geojson

Writes the simplified départements and the communes of the Grand Est départements as compact
gzip GeoJSON (properties `code`, `nom`), for the publication map.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "budget_core" / "data" / "geo"


def write(name: str, source: Path) -> None:
    data = json.loads(source.read_text(encoding="utf-8"))
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    (OUT / name).write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def main(source: str) -> None:
    folder = Path(source)
    write("departements.geojson.gz", folder / "departements-version-simplifiee.geojson")
    for path in sorted((folder / "communes-grand-est").glob("communes-*.geojson")):
        write(f"communes-{path.name.split('-')[1]}.geojson.gz", path)
    print(f"written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
