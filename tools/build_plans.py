"""Rebuild the plans de comptes shipped in budget_core/data/plans/ from DGFiP XML files.

Usage: python tools/build_plans.py ../shared/data/plans_de_comptes/dgfip_2013_2024

The source tree is <YEAR>/<NORME>/<DECLINAISON>/planDeCompte.xml (as published by the ODM
site and mirrored by megalis-bretagne/yatotem2scdl). Each plan is written as compact gzip JSON,
repaired on the way (see `repaired`).
"""

from __future__ import annotations

import gzip
import json
import sys
from dataclasses import replace
from pathlib import Path

from budget_core.nomenclature import Chapter, Plan, parse_plan_xml, plan_filename

OUT = Path(__file__).resolve().parent.parent / "budget_core" / "data" / "plans"


def repaired_label(label: str) -> str:
    """A label with its Windows-1252 characters restored.

    About ten DGFiP labels hold Windows-1252 bytes inside ISO-8859-1 files (`\\x92` for ’,
    `\\x96` for –, `\\x9c` for œ); read as ISO-8859-1 they become invisible C1 control
    characters (« Énergie \\x96 Électricité »). Two labels then double the apostrophe
    (« d’'utilisation »), kept once.
    """
    fixed = "".join(char.encode("latin-1").decode("cp1252") if "\x80" <= char <= "\x9f"
                    else char for char in label)
    return fixed.replace("’'", "’")


def grouping_chapters(plan: Plan) -> dict[str, Chapter]:
    """Chapters for the accounts that group a pair of third-party-operation chapters.

    Third-party operations are chapters by pair, spending and income (45441 and 45442, both
    « Opérations d'aménagement foncier »), under an account (4544) that the plan does not list
    as a chapter, yet documents vote it as one (the Morbihan's CA 2021 has chapter 4544). Such
    an account gets the chapter of its sub-accounts when there are several, all chapters, all
    with one label and section (not 658, whose sub-account 6586 alone is a chapter).
    """
    found: dict[str, Chapter] = {}
    for code in plan.accounts:
        children = [plan.chapters.get(child) for child in plan.accounts
                    if len(child) == len(code) + 1 and child.startswith(code)]
        if code in plan.chapters or len(children) < 2 or None in children:
            continue
        shared = {(c.label, c.section, c.kind) for c in children if c is not None}
        if len(shared) == 1:
            [(label, section, kind)] = shared
            found[code] = Chapter(code, label, section, kind)
    return found


def repaired(plan: Plan) -> Plan:
    """The plan with its labels' Windows-1252 characters restored and grouping chapters."""
    chapters = {code: replace(c, label=repaired_label(c.label))
                for code, c in plan.chapters.items()}
    return replace(
        plan,
        chapters=chapters | grouping_chapters(replace(plan, chapters=chapters)),
        accounts={code: replace(a, label=repaired_label(a.label))
                  for code, a in plan.accounts.items()},
        fonctions={code: repaired_label(label) for code, label in plan.fonctions.items()},
    )


def main(source: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    count = 0
    written: dict[str, Path] = {}
    for path in sorted(Path(source).glob("*/*/*/planDeCompte.xml")):
        # The plan's own header names its year and déclinaison: some folders hold a copy of
        # another year's plan (2022/M4/M43_D is the 2020 plan), which the header reveals.
        plan = repaired(parse_plan_xml(path))
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
