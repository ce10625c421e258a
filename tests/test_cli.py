"""The command line: each command through `main(argv)`, its output read as users read it; one
test runs `python -m budget_core` in a real process, as users start it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from budget_core.cli import build_parser, main
from tests.conftest import FIXTURES, TOTEM
from tests.portal_server import api_names, running

GUADELOUPE = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of `python -m budget_core args`."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_python_m_budget_core_runs_as_users_start_it() -> None:
    result = subprocess.run([sys.executable, "-m", "budget_core", "inspect",
                             str(TOTEM / "crach_lotissement_CA_2021.xml")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "siret : 21560046100085" in result.stdout


def test_inspect_says_what_a_file_is(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "inspect", str(TOTEM / "mohon_CFU_2023.xml"))
    assert code == 0, err
    assert "COMMUNE DE MOHON (M57)" in out
    assert "CFU — Compte financier unique" in out
    assert "lignes : 163" in out
    assert "lignes_calculees_ignorees : 633" in out
    assert "fonctionnement  depense  reel             701\u202f450,06\u202f€" in out


def test_inspect_json(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "inspect", "--json", str(TOTEM / "crach_lotissement_CA_2021.xml"))
    [described] = json.loads(out)
    assert (described["annee"], described["siret"]) == (2021, "21560046100085")
    assert described["lignes"] == 20


def test_convert_writes_scdl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "budget.csv"
    code, stdout, err = run(capsys, "convert", str(TOTEM / "crach_principal_BP_2022.xml"),
                            "-o", str(out))
    assert code == 0, err
    assert "201 lignes écrites" in stdout
    assert out.read_text(encoding="utf-8").startswith("BGT_NATDEC,BGT_ANNEE,")


def test_error_exits_non_zero_and_writes_nothing(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "budget.csv"
    bad = FIXTURES / "totem_invalid" / "totem_mauvaise_etape.xml"
    code, _, err = run(capsys, "convert", str(bad), "-o", str(out))
    assert code == 1
    assert err.startswith("Erreur : ") and "NatDec « 99999 » inconnue" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_existing_output_is_kept_when_conversion_fails(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    out = tmp_path / "budget.csv"
    out.write_text("précédent")
    code, _, _ = run(capsys, "convert", str(FIXTURES / "totem_invalid" / "mauvais_totem.xml"),
                     "-o", str(out))
    assert code == 1 and out.read_text() == "précédent"


def test_sync_sources_and_cache_commands_against_a_local_portal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
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
        monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path))
        _, listed, _ = run(capsys, "sources")
        assert "data.ofgl.fr" in listed and "désactivé" in listed
        code, out, err = run(capsys, "sync", "--timeout", "5")
        assert code == 0, err
        assert "2 nouveau(x), 0 mis à jour, 0 inchangé(s), 0 en échec" in out
        assert "2/2" in err  # the progress bar
        _, again, _ = run(capsys, "sync", "--source", "data.gouv.fr")
        assert "0 nouveau(x), 0 mis à jour, 2 inchangé(s)" in again
        _, cache, _ = run(capsys, "cache")
        assert cache.count("[ok] data.gouv.fr") == 2
        assert "COMMUNE DE MOHON (M57)" in cache
        code, _, err = run(capsys, "sync", "--source", "nulle-part")
        assert code == 1 and "aucun portail nommé" in err


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"python -m budget_core {name}" in readme, name


def test_national_command_imports_and_downloads_by_year(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run(capsys, "national", "--level", "communes", "--file", str(GUADELOUPE))
    assert code == 0, err
    assert "communes : 1 année(s) ajoutée(s) (2024) ; en cache : 2024" in out
    for server in running():
        server.ods_tables["ofgl-base-communes"], server.ods_labels["ofgl-base-communes"] = \
            api_names(GUADELOUPE.read_bytes().replace(b"\n2024;", b"\n2023;"))
        (tmp_path / "portals.toml").write_text(
            f'replace = true\n[[portal]]\nname = "data.ofgl.fr"\nkind = "opendatasoft"\n'
            f'url = "{server.url}"\n', encoding="utf-8")
        monkeypatch.setenv("BUDGET_PORTALS", str(tmp_path / "portals.toml"))
        code, out, err = run(capsys, "national", "--year", "2023", "--year", "2024")
        assert code == 0, err
        assert "1 année(s) ajoutée(s) (2023) ; en cache : 2023, 2024" in out


def test_national_on_a_missing_file_is_a_french_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run(capsys, "national", "--file", str(tmp_path / "absent.csv"))
    assert (code, out) == (1, "")
    assert err.startswith("Erreur : Fichier « absent.csv » : lecture impossible")
    assert not (tmp_path / "cache" / "national").exists()


def test_national_import_at_the_wrong_level_names_the_unknown_header(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run(capsys, "national", "--level", "gfp", "--file", str(GUADELOUPE))
    assert (code, out) == (1, "")
    assert "colonne « Commune rurale » inconnue dans un export OFGL de niveau « gfp »" in err
    assert "Que faire" in err and "Traceback" not in err
    assert not (tmp_path / "cache" / "national" / "gfp").exists()


def test_national_without_a_year_or_a_file_says_what_is_missing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run(capsys, "national")
    assert (code, out) == (1, "")
    assert "ni exercice (--year) ni fichier (--file)" in err and "Que faire" in err


def test_national_refuses_a_year_and_a_file_together(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["national", "--year", "2023", "--file", str(GUADELOUPE)])
    assert stopped.value.code == 2
    assert "--file" in capsys.readouterr().err
