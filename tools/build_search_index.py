"""Rebuild budget_core/data/collectivites.csv.gz, the search index of every collectivité.

Usage: python tools/build_search_index.py ../shared/data/geo/decoupage-administratif-6.0.0 [OUT]

One row per collectivité that votes a budget: every current commune with a SIREN, every EPCI à
fiscalité propre, the collectivité holding each département's budget and each région's (their
SIRENs: tools/sources/collectivites_sirets.csv, provenance beside it). Then one row per other
name or code that leads to one of them (`kind` = alias, `siren` = the collectivité it leads
to): arrondissements municipaux (Marseille 1er Arrondissement → Marseille), communes
déléguées and associées (→ the commune they belong to), and the COG names of départements and
régions whose budget another collectivité holds (Bas-Rhin → Collectivité européenne d'Alsace,
Paris as a département → the commune of Paris).

Columns: kind, siren, name, code (INSEE code of a commune, COG code of a département or
région, code of the alias), departement (the département code, or codes joined by ", "),
region, population (population municipale; for a département or région, the sum of its
communes'), postcodes (space separated), detail (the EPCI's type, or what an alias is).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "budget_core" / "data" / "collectivites.csv.gz"
SIRETS = ROOT / "tools" / "sources" / "collectivites_sirets.csv"
COLUMNS = ["kind", "siren", "name", "code", "departement", "region", "population", "postcodes",
           "detail"]
# Collectivités standing for a département or a région, under their own name; the COG names
# of what they stand for become aliases.
OWN_NAMES = {
    "200094332": ("departement", "Collectivité européenne d'Alsace", "6AE"),
    "200076958": ("region", "Collectivité de Corse", "94"),
    "200055507": ("region", "Collectivité territoriale de Martinique", "02"),
    "200052678": ("region", "Collectivité territoriale de Guyane", "03"),
}
ALIAS_KINDS = {"arrondissement-municipal": "arrondissement municipal",
               "commune-deleguee": "commune déléguée", "commune-associee": "commune associée"}


def read(folder: Path, name: str) -> list[dict]:
    return list(json.loads((folder / f"{name}.json").read_text(encoding="utf-8")))


def main(source: str, out: Path = OUT) -> None:
    folder = Path(source)
    communes = read(folder, "communes")
    current = {c["code"]: c for c in communes
               if c["type"] == "commune-actuelle" and c.get("siren")}
    postcodes: dict[str, set[str]] = defaultdict(set)
    for c in communes:
        parent = c["code"] if c["type"] == "commune-actuelle" else c.get("commune") or c.get(
            "chefLieu")
        if parent in current:
            postcodes[parent].update(c.get("codesPostaux", []))
    rows: list[list[object]] = []
    population_of: dict[tuple[str, str], int] = defaultdict(int)
    for c in current.values():
        population_of["departement", c["departement"]] += c.get("population") or 0
        population_of["region", c["region"]] += c.get("population") or 0
        rows.append(["commune", c["siren"], c["nom"], c["code"], c["departement"], c["region"],
                     c.get("population", ""), " ".join(sorted(postcodes[c["code"]])), ""])
    for c in communes:
        parent = current.get(c.get("commune") or c.get("chefLieu") or "")
        if c["type"] in ALIAS_KINDS and parent and c["nom"] != parent["nom"]:
            rows.append(["alias", parent["siren"], c["nom"],
                         c["code"] if c["code"] != parent["code"] else "", c["departement"],
                         c["region"], "", "", ALIAS_KINDS[c["type"]]])
    for e in read(folder, "epci"):
        by_departement: dict[str, int] = defaultdict(int)
        for member in e["membres"]:
            if member["code"] in current:
                by_departement[current[member["code"]]["departement"]] += (
                    member.get("populationMunicipale") or 0)
        main_departement = max(by_departement, key=by_departement.__getitem__, default="")
        region = next((current[m["code"]]["region"] for m in e["membres"]
                       if m["code"] in current), "")
        rows.append(["epci", e["code"], e["nom"], "", main_departement, region,
                     e.get("populationMunicipale", ""), "", e["type"]])
    rows.extend(upper_levels(folder, current, population_of))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    out.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
    kinds = defaultdict(int)
    for row in rows:
        kinds[row[0]] += 1
    print(f"{len(rows)} rows written to {out}: {dict(kinds)}")


def upper_levels(folder: Path, current: dict[str, dict],
                 population_of: dict[tuple[str, str], int]) -> list[list[object]]:
    """Départements and régions: the collectivité holding the budget of each, once per SIREN
    (the CeA for 67 and 68), under its COG name or its own (`OWN_NAMES`); every other COG name
    of it an alias."""
    with SIRETS.open(encoding="utf-8") as file:
        siren_of = {(r["level"], r["code"]): r["siret"][:9] for r in csv.DictReader(file)}
    commune_sirens = {c["siren"]: c for c in current.values()}
    cog = [("departement", d) for d in read(folder, "departements") if d["zone"] != "com"]
    cog += [("region", r) for r in read(folder, "regions") if r["zone"] != "com"]
    entities: dict[str, list[object]] = {}
    aliases: list[list[object]] = []
    for level, item in cog:
        siren = siren_of[level, item["code"]]
        departement = item["code"] if level == "departement" else ""
        region = item.get("region", item["code"])
        if siren in commune_sirens:  # Paris: the commune holds the département's budget
            aliases.append(["alias", siren, item["nom"], item["code"], departement, region, "",
                            "", level])
            continue
        kind, name, code = OWN_NAMES.get(siren, (level, item["nom"], item["code"]))
        entity = entities.get(siren)
        if entity is None:
            entities[siren] = entity = [kind, siren, name, code, "", region, 0, "", ""]
        if level == "departement":
            entity[4] = ", ".join(filter(None, [str(entity[4]), departement]))
        if kind == level:
            entity[6] = int(str(entity[6])) + population_of[level, item["code"]]
        if item["nom"] != name:
            aliases.append(["alias", siren, item["nom"], item["code"], departement, region, "",
                            "", level])
    return [*entities.values(), *aliases]


if __name__ == "__main__":
    main(sys.argv[1], *(Path(arg) for arg in sys.argv[2:3]))
