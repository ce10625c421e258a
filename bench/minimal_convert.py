"""The least a Python TOTEM → CSV converter does: a yardstick for bench_convert.py, not a tool.

Run: python bench/minimal_convert.py IN.xml OUT.csv

It reads the document with expat (one Python call per element), looks each budget line's
nature up in the DGFiP plan de comptes of the document's nomenclature and nearest year (the gzipped
JSON plans shipped in budget_core/data/plans, read with zlib and json), and writes one CSV row
per line with the csv module. Nothing else: no argument parsing, no exact decimals, no check of
any value, no error message, no SCDL column beyond five, no atomic write. Whatever a real
converter adds costs more, so its time is a floor for any converter written in Python that
reads the same plans: `bench_convert.py` prints the reference's time over it (« ceiling,
minimal converter »), the most any Python program doing this job could reach.

On the CFU document (Mohon 2023) it reads more lines than a converter should (it does not tell
the budget's own lines from the others): the yardstick is meant for the simple documents.
"""

# pathlib costs 3.3 ms of imports here, which is the point of a floor: plain open() instead
# ruff: noqa: PTH123, PTH208

import csv
import json
import os
import sys
import zlib
from xml.parsers import expat

PLANS = __file__.rsplit("/", 2)[0] + "/budget_core/data/plans/"
FIELDS = ("Nature", "CodRD", "OpBudg", "MtPrev", "MtReal")


def main(document: str, output: str) -> None:
    lines: list[dict[str, str]] = []
    header: dict[str, str] = {}
    current: dict[str, str] | None = None

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal current
        if name == "LigneBudget":
            current = {}
        elif current is not None:
            current[name] = attributes.get("V", "")
        elif name in ("Nomenclature", "Exer") and name not in header:
            header[name] = attributes.get("V", "")

    def end(name: str) -> None:
        nonlocal current
        if name == "LigneBudget" and current is not None:
            lines.append(current)
            current = None

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    with open(document, "rb") as handle:
        parser.ParseFile(handle)
    declinaison = header["Nomenclature"].split("-", 1)[-1]
    years = [int(name[len(declinaison) + 1:-8]) for name in os.listdir(PLANS)
             if name.startswith(f"{declinaison}_") and name[len(declinaison) + 1:-8].isdigit()]
    year = min(years, key=lambda y: abs(y - int(header["Exer"])))
    with open(f"{PLANS}{declinaison}_{year}.json.gz", "rb") as handle:
        plan = json.loads(zlib.decompress(handle.read(), 16 + zlib.MAX_WBITS))
    chapter_of = {account[0]: account[2] for account in plan["accounts"]}
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("chapitre", *FIELDS))
        for line in lines:
            writer.writerow((chapter_of.get(line.get("Nature", ""), ""),
                             *(line.get(field, "") for field in FIELDS)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
