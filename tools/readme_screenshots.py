"""Copy the README's screenshots from the browser test's artefacts to docs/screenshots/.

Usage: python -m pytest tests/test_browser.py tests/test_browser_balances.py
       && python tools/readme_screenshots.py

The browser test writes every page at 1440×900 and 390×844 (full height) to test-artifacts/;
the README shows a few of them, cut to the first screens so the pictures stay small.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
OUT = ROOT / "docs" / "screenshots"
# README picture: (artefact of the browser test, height kept in pixels).
SHOTS = {
    "explorer": ("explorer_1440x900", 1900),
    "explorer-mobile": ("explorer_390x844", 1700),
    "comprendre": ("comprendre_1440x900", 1500),
    "comparer": ("comparer_1440x900", 1500),
    "evolution": ("evolution_1440x900", 1500),
    "execution": ("execution_1440x900", 1500),
    "se-comparer": ("se-comparer_1440x900", 1200),
    "publier": ("publier-carte_1440x900", 1500),
    # the DGFiP balances (tests/test_browser_balances.py, on the real sample rows)
    "se-comparer-chapitres": ("se-comparer-chapitres_1440x900", 1300),
    "accueil-balance": ("accueil-balance_1440x900", 1100),
    "donnees-balances": ("donnees-balances-import_1440x900", 1100),
}


def main() -> int:
    missing = [source for source, _ in SHOTS.values()
               if not (ARTIFACTS / f"{source}.png").exists()]
    if missing:
        print(f"Absent de {ARTIFACTS} : {', '.join(missing)}. Lancez d'abord "
              "python -m pytest tests/test_browser.py tests/test_browser_balances.py",
              file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (source, height) in SHOTS.items():
        with Image.open(ARTIFACTS / f"{source}.png") as image:
            kept = image.crop((0, 0, image.width, min(height, image.height)))
            kept.save(OUT / f"{name}.png", optimize=True)
        print(OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
