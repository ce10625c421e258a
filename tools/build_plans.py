"""Rebuild the plans de comptes shipped in budget_core/data/plans/ from DGFiP XML files.

Usage: python tools/build_plans.py ../shared/data/plans_de_comptes/dgfip_2013_2024

The source tree is <YEAR>/<NORME>/<DECLINAISON>/planDeCompte.xml (as published by the ODM
site and mirrored by megalis-bretagne/yatotem2scdl). Each plan is written as compact gzip JSON.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from budget_core.nomenclature import parse_plan_xml, plan_filename

OUT = Path(__file__).resolve().parent.parent / "budget_core" / "data" / "plans"


def main(source: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    count = 0
    written: dict[str, Path] = {}
    for path in sorted(Path(source).glob("*/*/*/planDeCompte.xml")):
        # The plan's own header names its year and déclinaison: some folders hold a copy of
        # another year's plan (2022/M4/M43_D is the 2020 plan), which the header reveals.
        plan = parse_plan_xml(path)
        payload = json.dumps(plan.to_dict(), ensure_ascii=False, separators=(",", ":"))
        target = OUT / plan_filename(plan.declinaison, plan.year)
        if target.name in written:
            print(f"{path}: same plan as {written[target.name]}, kept once")
        written[target.name] = path
        target.write_bytes(gzip.compress(payload.encode("utf-8"), mtime=0))
        count += 1
    print(f"{count} plans written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
