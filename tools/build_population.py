"""Rebuild budget_core/data/population.csv.gz and budget_core/data/geo/regions.json from
@etalab/decoupage-administratif.

Usage: python tools/build_population.py ../shared/data/geo/decoupage-administratif-6.0.0

Keeps, for each current commune and each EPCI à fiscalité propre: SIREN, INSEE code (communes),
name, type, département, région, population municipale (INSEE, as the package gives it) and,
for EPCI, the fiscal regime (FPU, FA...). And the 18 régions (métropole and DROM; not the
collectivités d'outre-mer the package also lists), code INSEE and name.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "budget_core" / "data"
OUT = DATA / "population.csv.gz"
REGIONS = DATA / "geo" / "regions.json"


def main(source: str) -> None:
    folder = Path(source)
    rows = []
    for c in json.loads((folder / "communes.json").read_text(encoding="utf-8")):
        if c.get("type") == "commune-actuelle" and c.get("siren"):
            rows.append([c["siren"], c["code"], c["nom"], "commune", c.get("departement", ""),
                         c.get("region", ""), c.get("population", ""), ""])
    for e in json.loads((folder / "epci.json").read_text(encoding="utf-8")):
        rows.append([e["code"], "", e["nom"], "epci", "", "", e.get("populationMunicipale", ""),
                     e.get("modeFinancement", "")])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["siren", "insee", "name", "kind", "departement", "region", "population",
                     "fiscal_regime"])
    writer.writerows(rows)
    OUT.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
    print(f"{len(rows)} rows written to {OUT}")
    regions = [{"code": r["code"], "nom": r["nom"]}
               for r in json.loads((folder / "regions.json").read_text(encoding="utf-8"))
               if r["zone"] in ("metro", "drom")]
    REGIONS.write_text(json.dumps(regions, ensure_ascii=False, indent=1) + "\n",
                       encoding="utf-8")
    print(f"{len(regions)} régions written to {REGIONS}")


if __name__ == "__main__":
    main(sys.argv[1])
