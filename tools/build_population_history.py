"""Rebuild budget_core/data/population_history.csv.gz: the population totale légale of each
commune in force in each year 2022-2026, so that an amount per inhabitant divides by the
population of the budget's year, not today's.

Usage: python tools/build_population_history.py DECOUPAGE_GIT_DIR [COMMUNES_JSON]

DECOUPAGE_GIT_DIR is a clone of datagouv/decoupage-administratif (the source of the
@etalab/decoupage-administratif package): each of its versions below of
`sources/donnees_communes.csv` is an INSEE « populations légales » table, as that project
downloaded it (the INSEE page is the one its README names at that version). A millésime M
(census reference year) is in force from 1 January M + 3. COMMUNES_JSON is the package's
`communes.json` (COG 2026, default: ../shared/data/geo/decoupage-administratif-6.0.0/).

Only today's communes are kept (by SIREN). Paris, Lyon and Marseille are counted by
arrondissement in the tables: their figure is the sum of their arrondissements'. A year is
kept only when the commune was the same territory then: when one of its communes déléguées
or associées had a population of its own in that table, the figure of that year would be a
part of today's commune, and is left out.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "budget_core" / "data" / "population_history.csv.gz"
COMMUNES = ROOT.parent / "shared" / "data" / "geo" / "decoupage-administratif-6.0.0" / (
    "communes.json")
# Year in force: (commit of datagouv/decoupage-administratif, INSEE page, millésime).
VERSIONS = {
    2022: ("3b06854", "insee.fr/fr/statistiques/6011070", 2019),
    2023: ("8f05945", "insee.fr/fr/statistiques/6683035", 2020),
    2024: ("8c08172", "insee.fr/fr/statistiques/7739582", 2021),
    2025: ("3017ac9", "insee.fr/fr/statistiques/8290591", 2022),
    2026: ("f50febe", "insee.fr/fr/statistiques/8680726", 2023),
}


def code_of(row: dict[str, str]) -> str:
    """The INSEE code of a row, in each layout the tables had (2020: département + commune
    number, the name in COM; DOM départements have three characters: 971 + 01 → 97101)."""
    if "CODDEP" in row:
        departement = row["CODDEP"]
        return (departement[:2] if len(departement) == 3 else departement) + row["CODCOM"][-3:]
    return row["COM"]


def table(git_dir: Path, commit: str) -> dict[str, int]:
    text = subprocess.run(["git", f"--git-dir={git_dir}", "show",
                           f"{commit}:sources/donnees_communes.csv"],
                          check=True, capture_output=True).stdout.decode("utf-8")
    return {code_of(row): int(row["PTOT"].replace(" ", "").replace("\u00a0", ""))
            for row in csv.DictReader(io.StringIO(text), delimiter=";")}


def main(git_dir: str, communes_json: Path = COMMUNES) -> None:
    communes = json.loads(Path(communes_json).read_text(encoding="utf-8"))
    current = {c["code"]: c["siren"] for c in communes
               if c["type"] == "commune-actuelle" and c.get("siren")}
    parts: dict[str, set[str]] = {code: set() for code in current}
    arrondissements: dict[str, set[str]] = {}
    for c in communes:
        if c["type"] == "arrondissement-municipal":
            arrondissements.setdefault(c["commune"], set()).add(c["code"])
        parent = c.get("chefLieu") or c.get("commune")
        if c["type"] in ("commune-deleguee", "commune-associee") and parent in parts and (
                c["code"] != parent):
            parts[parent].add(c["code"])
    years = {year: table(Path(git_dir), commit) for year, (commit, _, _) in VERSIONS.items()}
    for populations in years.values():
        for city, codes in arrondissements.items():
            if codes <= populations.keys():
                populations[city] = sum(populations[code] for code in codes)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["siren", "insee", *years])
    kept = dict.fromkeys(years, 0)
    for code, siren in sorted(current.items()):
        cells = []
        for year, populations in years.items():
            same = code in populations and not parts[code] & populations.keys()
            cells.append(populations[code] if same else "")
            kept[year] += same
        writer.writerow([siren, code, *cells])
    OUT.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
    print(f"{len(current)} communes written to {OUT}; figures kept by year in force: {kept}")


if __name__ == "__main__":
    main(sys.argv[1], *(Path(arg) for arg in sys.argv[2:3]))
