"""The command line, run as users run it: `python -m budget_core ...` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, TOTEM


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "budget_core", *args], capture_output=True,
                          text=True, check=False)


def test_inspect_says_what_a_file_is() -> None:
    result = run("inspect", str(TOTEM / "mohon_CFU_2023.xml"))
    assert result.returncode == 0, result.stderr
    assert "COMMUNE DE MOHON (M57)" in result.stdout
    assert "CFU — Compte financier unique" in result.stdout
    assert "lignes : 163" in result.stdout
    assert "lignes_calculees_ignorees : 633" in result.stdout
    assert "fonctionnement  depense  reel             701\u202f450,06\u202f€" in result.stdout


def test_inspect_json() -> None:
    result = run("inspect", "--json", str(TOTEM / "crach_lotissement_CA_2021.xml"))
    [described] = json.loads(result.stdout)
    assert (described["annee"], described["siret"]) == (2021, "21560046100085")
    assert described["lignes"] == 20


def test_convert_writes_scdl(tmp_path: Path) -> None:
    out = tmp_path / "budget.csv"
    result = run("convert", str(TOTEM / "crach_principal_BP_2022.xml"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "201 lignes écrites" in result.stdout
    assert out.read_text(encoding="utf-8").startswith("BGT_NATDEC,BGT_ANNEE,")


def test_error_exits_non_zero_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "budget.csv"
    bad = FIXTURES / "totem_invalid" / "totem_mauvaise_etape.xml"
    result = run("convert", str(bad), "-o", str(out))
    assert result.returncode == 1
    assert "NatDec « 99999 » inconnue" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_existing_output_is_kept_when_conversion_fails(tmp_path: Path) -> None:
    out = tmp_path / "budget.csv"
    out.write_text("précédent")
    run("convert", str(FIXTURES / "totem_invalid" / "mauvais_totem.xml"), "-o", str(out))
    assert out.read_text() == "précédent"
