"""The command line, run as users run it: `python -m budget_core ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, TOTEM
from tests.portal_server import running


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "budget_core", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, **(env or {})})


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


def test_sync_sources_and_cache_commands_against_a_local_portal(tmp_path: Path) -> None:
    for server in running():
        for name in ("crach_principal_CA_2021.xml", "mohon_CFU_2023.xml"):
            server.publish(name, (TOTEM / name).read_bytes())
        server.udata_files = ["crach_principal_CA_2021.xml", "mohon_CFU_2023.xml"]
        (tmp_path / "portals.toml").write_text(
            'replace = true\n'
            f'[[portal]]\nname = "data.gouv.fr"\nkind = "udata"\nurl = "{server.url}"\n'
            'queries = []\n'
            f'[[portal]]\nname = "data.ofgl.fr"\nkind = "opendatasoft"\nurl = "{server.url}"\n'
            'enabled = false\n'
            f'[[portal]]\nname = "DataGrandEst"\nkind = "geonetwork"\n'
            f'url = "{server.url}/geonetwork"\n'
            f'[[portal]]\nname = "DataSud"\nkind = "ckan"\nurl = "{server.url}"\n',
            encoding="utf-8")
        env = {"BUDGET_CACHE_DIR": str(tmp_path)}
        listed = run("sources", env=env)
        assert "data.ofgl.fr" in listed.stdout and "désactivé" in listed.stdout
        first = run("sync", "--timeout", "5", env=env)
        assert first.returncode == 0, first.stderr
        assert "2 nouveau(x), 0 mis à jour, 0 inchangé(s), 0 en échec" in first.stdout
        assert "2/2" in first.stderr  # the progress bar
        again = run("sync", "--source", "data.gouv.fr", env=env)
        assert "0 nouveau(x), 0 mis à jour, 2 inchangé(s)" in again.stdout
        cache = run("cache", env=env)
        assert cache.stdout.count("[ok] data.gouv.fr") == 2
        assert "COMMUNE DE MOHON (M57)" in cache.stdout
        unknown = run("sync", "--source", "nulle-part", env=env)
        assert unknown.returncode == 1 and "aucun portail nommé" in unknown.stderr


def test_every_command_is_documented_in_the_readme() -> None:
    from budget_core.cli import build_parser

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"python -m budget_core {name}" in readme, name


def test_national_command_imports_and_downloads_by_year(tmp_path: Path) -> None:
    guadeloupe = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"
    env = {"BUDGET_CACHE_DIR": str(tmp_path / "cache")}
    imported = run("national", "--level", "communes", "--file", str(guadeloupe), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "communes : 1 année(s) ajoutée(s) (2024) ; en cache : 2024" in imported.stdout
    for server in running():
        server.ods_tables["ofgl-base-communes"] = guadeloupe.read_bytes().replace(
            b"\n2024;", b"\n2023;")
        (tmp_path / "portals.toml").write_text(
            f'replace = true\n[[portal]]\nname = "data.ofgl.fr"\nkind = "opendatasoft"\n'
            f'url = "{server.url}"\n', encoding="utf-8")
        env["BUDGET_PORTALS"] = str(tmp_path / "portals.toml")
        fetched = run("national", "--year", "2023", "--year", "2024", env=env)
        assert fetched.returncode == 0, fetched.stderr
        assert "1 année(s) ajoutée(s) (2023) ; en cache : 2023, 2024" in fetched.stdout
