"""The command line given what nobody here wrote: real files of other kinds (GeoJSON, portal
API payloads, OFGL and DGFiP exports, SCDL and TOTEM documents to the wrong command), empty
files, folders, outputs it cannot or must not write, closed or full standard streams, Ctrl-C
in the middle of a conversion, two conversions writing one file. Each refusal is a French
message saying what, where and what to do, exit code non-zero, no traceback, and no output
half-written (outputs go through `fsutil.atomic_writer`)."""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from budget_core.cli import main
from tests.conftest import FIXTURES, TOTEM

ROOT = Path(__file__).resolve().parent.parent
GEOJSON = FIXTURES / "geo" / "regions-version-simplifiee.geojson"
API = sorted((FIXTURES / "api").glob("*.json"))
OFGL = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"
BALANCES = FIXTURES / "balances" / "balance-comptable-communes-2024_sample20.csv"
SCDL = FIXTURES / "scdl_expected" / "crach_lotissement_CA_2021.csv"
CRACH = TOTEM / "crach_principal_CA_2021.xml"
# Budget documents' commands, given files that are no budget document.
NOT_BUDGETS = [GEOJSON, *API, FIXTURES / "geo" / "decoupage_extract.json", OFGL, BALANCES]
# An output path, when the command writes one.
WRITES = {"convert": "sortie.csv", "anonymise": "sortie.xml"}


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The error a command prints (in-process: an exception would fail the test), checked
    to be French, to name a place and to say what to do."""
    code = main(list(args))
    _, err = capsys.readouterr()
    assert code == 1, err
    assert err.startswith("Erreur : Fichier « ") and " Que faire : " in err, err
    return err


@pytest.mark.parametrize("path", NOT_BUDGETS, ids=lambda p: p.name)
@pytest.mark.parametrize("command", ["inspect", "convert", "anonymise", "metadata"])
def test_a_file_of_another_kind_is_refused_and_nothing_written(
        command: str, path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = ["-o", str(tmp_path / WRITES[command])] if command in WRITES else []
    assert path.name in refused(capsys, command, str(path), *output)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", NOT_BUDGETS, ids=lambda p: p.name)
def test_validate_says_a_file_of_another_kind_is_not_valid(
        path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`validate` reports (exit 1) rather than fails: the report names the file and what is
    missing."""
    assert main(["validate", str(path)]) == 1
    out, _ = capsys.readouterr()
    assert out.startswith(f"{path.name} : NON valide") and "Que faire" in out


@pytest.mark.parametrize("path", [GEOJSON, *API, OFGL, SCDL, CRACH], ids=lambda p: p.name)
def test_balances_import_refuses_what_is_no_dgfip_balance(
        path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The GeoJSON's one line of 225 495 characters stopped Python's CSV reader (« field
    larger than field limit ») with a traceback."""
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    assert "ligne 1" in refused(capsys, "balances", "import", str(path))
    assert not list((tmp_path / "cache").rglob("*.parquet"))


@pytest.mark.parametrize("path", [GEOJSON, *API, BALANCES, SCDL, CRACH], ids=lambda p: p.name)
def test_national_import_refuses_what_is_no_ofgl_export(
        path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    refused(capsys, "national", "--level", "communes", "--file", str(path))
    assert not list((tmp_path / "cache").rglob("*.parquet"))


READING = ["inspect", "convert", "validate", "anonymise", "metadata", "balances", "national"]


def reading(command: str, path: Path, folder: Path) -> list[str]:
    """The arguments of `command` reading `path` (an output, if it writes one, in `folder`)."""
    output = ["-o", str(folder / WRITES[command])] if command in WRITES else []
    return {"balances": ["balances", "import", str(path)],
            "national": ["national", "--file", str(path)]}.get(command,
                                                                [command, str(path), *output])


@pytest.mark.parametrize("command", READING)
def test_an_empty_file_a_folder_and_a_missing_path_are_refused(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "vide.xml").write_bytes(b"")
    (tmp_path / "dossier.xml").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    for name in ("vide.xml", "dossier.xml", "absent.xml"):
        code = main(reading(command, tmp_path / name, out))
        written, err = capsys.readouterr()
        assert code == 1
        message = written if command == "validate" else err
        assert name in message and "Que faire" in message, message
    assert list(out.iterdir()) == [] and not list(tmp_path.rglob("*.parquet"))


@pytest.mark.parametrize("command", [c for c in READING if c != "validate"])
def test_an_unreadable_file_is_a_french_error(command: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A file without read permission; root reads those, so for root a file whose read
    fails (/proc/self/mem at offset 0: « Input/output error »). (`validate` reports it.)"""
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "illisible.xml"
    path.write_bytes(CRACH.read_bytes())
    path.chmod(0)
    if os.geteuid() == 0:
        path = Path("/proc/self/mem")
    assert "lecture impossible" in refused(capsys, *reading(command, path, tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["illisible.xml"]
    assert not list(tmp_path.rglob("*.parquet"))


@pytest.mark.parametrize("command", sorted(WRITES))
def test_a_path_with_spaces_and_accents_is_read_and_written(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "Budgets été 2021" / "Crach (principal)"
    folder.mkdir(parents=True)
    source = folder / "crâch été.xml"
    source.write_bytes(CRACH.read_bytes())
    output = folder / f"sortie à jour.{WRITES[command].split('.')[1]}"
    assert main([command, str(source), "-o", str(output)]) == 0, capsys.readouterr().err
    assert output.stat().st_size > 0


@pytest.mark.parametrize("command", sorted(WRITES))
def test_the_file_read_is_never_replaced_by_the_output(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`convert doc.xml -o doc.xml` replaced the document by its CSV, exit 0."""
    source = tmp_path / "doc.xml"
    source.write_bytes(CRACH.read_bytes())
    for same in (source, tmp_path / "." / "doc.xml"):
        assert "le fichier de sortie est le fichier lu" in refused(
            capsys, command, str(source), "-o", str(same))
    assert source.read_bytes() == CRACH.read_bytes()


@pytest.mark.parametrize("command", sorted(WRITES))
def test_an_output_in_a_missing_folder_or_on_a_folder_is_refused(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing folder was created, with its parents (a typing error made a tree); a folder
    as output failed with a traceback (IsADirectoryError)."""
    missing = tmp_path / "manquant" / "sous-dossier" / WRITES[command]
    assert "n'existe pas" in refused(capsys, command, str(CRACH), "-o", str(missing))
    assert "est un dossier" in refused(capsys, command, str(CRACH), "-o", str(tmp_path))
    assert "pas un dossier" in refused(capsys, command, str(CRACH), "-o",
                                       str(CRACH / WRITES[command]))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", sorted(WRITES))
def test_a_folder_refusing_writes_is_a_french_error(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A read-only folder (root writes anywhere but in /sys): a traceback
    (PermissionError) before."""
    folder = tmp_path / "lecture seule"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        folder = Path("/sys")
    try:
        err = refused(capsys, command, str(CRACH), "-o", str(folder / WRITES[command]))
    finally:
        (tmp_path / "lecture seule").chmod(0o755)
    assert "écriture impossible" in err
    assert not (folder / WRITES[command]).exists()


def cli(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """`python -m budget_core args` in a real process, as users start it."""
    return subprocess.run([sys.executable, "-m", "budget_core", *args], cwd=ROOT,
                          **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options},
                          text=True, timeout=300)


def test_closed_or_full_standard_streams_are_french_errors(tmp_path: Path) -> None:
    """`> /dev/full` (a full disk) and `>&-` failed with tracebacks (OSError, AttributeError)."""
    with Path("/dev/full").open("w") as full:
        done = cli("inspect", str(CRACH), stdout=full)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("Erreur : Fichier « <sortie standard> » : écriture "
                                  "impossible") and "Que faire" in done.stderr
    closed = cli("inspect", str(CRACH), stdout=None, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 1 and "Traceback" not in closed.stderr
    assert closed.stderr.startswith("Erreur : la sortie standard est fermée")
    done = cli("inspect", str(CRACH), preexec_fn=lambda: os.close(0))  # nothing reads stdin
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("stop", "said"), [(signal.SIGINT, "interrompu (Ctrl-C)"),
                                             (signal.SIGTERM, "arrêté (signal TERM)")])
def test_a_stop_mid_conversion_leaves_the_previous_output_whole(
        stop: signal.Signals, said: str, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) or `kill` (SIGTERM) while a 30 MB document (real lines repeated, as
    bench/bench_convert.py makes it) is converted: exit 128 + the signal's number with a
    French message, no traceback, the previous output as it was and no temporary file left
    (SIGTERM's default ended the process at once and left the temporary file)."""
    source = TOTEM / "Montreuil_CA_2022.xml"
    data = source.read_bytes()
    start, end = data.index(b"<LigneBudget>"), data.rindex(b"</LigneBudget>") + 14
    big = tmp_path / "grand.xml"
    with big.open("wb") as out:
        out.write(data[:start])
        for _ in range(30_000_000 // (end - start)):
            out.write(data[start:end])
        out.write(data[end:])
    output = tmp_path / "sortie.csv"
    output.write_text("précédent", encoding="utf-8")
    running = subprocess.Popen(
        [sys.executable, "-m", "budget_core", "convert", str(big), "-o", str(output)], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal does
    deadline = time.monotonic() + 120
    while not [p for p in tmp_path.glob(".sortie.csv.*.tmp") if p.stat().st_size > 100_000]:
        assert running.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    running.send_signal(stop)
    _, err = running.communicate(timeout=60)
    assert running.returncode == 128 + stop and "Traceback" not in err
    assert err.startswith(f"Erreur : {said}.") and "Que faire" in err
    assert output.read_text(encoding="utf-8") == "précédent"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grand.xml", "sortie.csv"]


def test_two_conversions_writing_one_file_leave_one_whole_conversion(tmp_path: Path) -> None:
    """Each writes its own temporary file and renames it: the output is one of the two
    conversions, byte for byte, never a mix."""
    sources = [TOTEM / "Montreuil_CA_2021.xml", TOTEM / "Montreuil_CA_2022.xml"]
    alone = []
    for number, source in enumerate(sources):
        assert cli("convert", str(source), "-o", str(tmp_path / f"{number}.csv")).returncode == 0
        alone.append((tmp_path / f"{number}.csv").read_bytes())
    both = tmp_path / "les deux.csv"
    running = [subprocess.Popen([sys.executable, "-m", "budget_core", "convert", str(source),
                                 "-o", str(both)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for source in sources]
    for process in running:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert both.read_bytes() in alone
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_document_still_being_written_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Read while another process is writing it: the part written so far is a truncated
    document, refused at its last line, nothing written."""
    data = (TOTEM / "Montreuil_CA_2022.xml").read_bytes()
    partial = tmp_path / "en_cours.xml"
    partial.write_bytes(data[:len(data) // 3])
    output = tmp_path / "sortie.csv"
    for command in ("inspect", "convert"):
        extra = ["-o", str(output)] if command == "convert" else []
        assert "tronqué" in refused(capsys, command, str(partial), *extra)
    assert not output.exists()


def test_peers_and_coverage_on_a_fresh_cache_say_what_is_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`peers` before any balance was downloaded failed with pandas' KeyError; `coverage` of
    a département that does not exist said « 0,0 % … (0 sur 0) », exit 0."""
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["peers", "219300480", "--year", "2022"]) == 1
    assert "balances download --year 2022" in capsys.readouterr().err
    assert main(["coverage", "--departement", "abc", "--year", "2022"]) == 1
    err = capsys.readouterr().err
    assert "aucune commune connue dans le département « abc »" in err and "Que faire" in err


@pytest.mark.parametrize(("args", "french"), [
    (["coverage", "--departement", "10", "--year", "2022", "--stage", "ZZ"],
     "argument --stage : « ZZ » n'est pas un choix possible"),
    (["coverage", "--departement", "10", "--year", "deux mille"],
     "argument --year : « deux mille » n'est pas un nombre entier"),
    (["convert", str(CRACH)], "arguments obligatoires manquants : -o/--output"),
    (["national", "--year", "2023", "--file", str(OFGL)],
     "argument --file : incompatible avec l'argument --year"),
    (["inspect", str(CRACH), str(CRACH)], "arguments inconnus : "),
    (["resume"], "argument command : « resume » n'est pas un choix possible"),
])
def test_arguments_refused_are_said_in_french(args: list[str], french: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """argparse said « error: the following arguments are required… » in English."""
    with pytest.raises(SystemExit) as stopped:
        main(args)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"Erreur : {french}" in err and "--help » décrit les arguments" in err


@pytest.mark.parametrize("args", [["--help"], ["convert", "--help"], ["balances", "--help"]])
def test_help_is_said_in_french(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The commands' texts were French but argparse's own words were not: « usage: »,
    « positional arguments », « show this help message and exit »."""
    with pytest.raises(SystemExit) as stopped:
        main(args)
    out = capsys.readouterr().out
    assert stopped.value.code == 0
    assert out.startswith("usage : python -m budget_core")
    assert re.search(r"\n  -h, --help +afficher cette aide et quitter\n", out)
    assert "\narguments:\n" in out and "\noptions:\n" in out
    for english in ("usage:", "positional arguments", "show this help"):
        assert english not in out


def with_amount(source: Path, separator: str, column: str, value: str) -> bytes:
    """The real export `source` with `value` as the `column` cell of its first row (whose
    cells hold no quoted separator)."""
    head, first, *rest = source.read_bytes().decode("utf-8-sig").split("\n")
    cells = first.split(separator)
    cells[head.split(separator).index(column)] = value
    return "\n".join([head, separator.join(cells), *rest]).encode()


@pytest.mark.parametrize(("value", "said"), [
    ("13900,5", "valeur non numérique « 13900,5 » (virgule décimale"),
    ("99999999999999999999.99", "hors limites : au plus 16 chiffres avant la virgule"),
    ("-1e17", "hors limites"),
    ("inf", "un nombre fini est attendu"),
])
def test_an_ofgl_amount_out_of_reason_is_refused_at_its_line(
        value: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """On the real Guadeloupe export: a comma decimal (a spreadsheet's re-save) said
    pyarrow's English and no line; 10^20 € was stored."""
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "ofgl.csv"
    path.write_bytes(with_amount(OFGL, ";", "Montant", value))
    err = refused(capsys, "national", "--level", "communes", "--file", str(path))
    assert "ligne 2, colonne « Montant »" in err and said in err
    assert not list((tmp_path / "cache").rglob("*.parquet"))


@pytest.mark.parametrize("value", ["-0", "1e3", "5.701571408753887e-05"])
def test_an_ofgl_amount_written_as_the_exports_write_numbers_is_read(
        value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The real export itself writes exponents (« Montant en € par habitant »
    5.701571408753887e-05, « Montant en millions » 1.49000000004889e-06): OFGL's amounts are
    floats, read as such, exponent or not."""
    assert b"5.701571408753887e-05" in OFGL.read_bytes()
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "ofgl.csv"
    path.write_bytes(with_amount(OFGL, ";", "Montant", value))
    assert main(["national", "--level", "communes", "--file", str(path)]) == 0
    assert "1 année(s) ajoutée(s) (2024)" in capsys.readouterr().out


@pytest.mark.parametrize(("value", "said"), [
    ("1e3", "notation scientifique"), ("13900,5", "virgule décimale"),
    ("99999999999999999999.99", "au plus 16 chiffres"), ("NaN", "« N » non admis"),
])
def test_a_balance_amount_out_of_reason_is_refused_at_its_line(
        value: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "balance.csv"
    path.write_bytes(with_amount(BALANCES, ";", "sc", value))
    err = refused(capsys, "balances", "import", str(path))
    assert "ligne 2, colonne sc" in err and said in err
    assert not list((tmp_path / "cache").rglob("*.parquet"))


@pytest.mark.parametrize(("value", "said"), [
    ("1e3", "notation scientifique"), ('"1,234.56"', "virgule et point à la fois"),
    ("99999999999999999999.99", "au plus 16 chiffres"), ("1.005", "plus de deux décimales"),
])
@pytest.mark.parametrize("command", ["inspect", "convert"])
def test_an_scdl_amount_out_of_reason_is_refused_at_its_line(
        command: str, value: str, said: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "budget.csv"
    path.write_bytes(with_amount(SCDL, ",", "BGT_MTREAL", value))
    output = ["-o", str(tmp_path / "sortie.csv")] if command == "convert" else []
    err = refused(capsys, command, str(path), *output)
    assert "ligne 2, colonne BGT_MTREAL" in err and said in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget.csv"]


@pytest.mark.parametrize(("value", "amount"), [
    ("-0", "0.00"), ("-0.00", "0.00"), ('"13 900,00"', "13900.00"), ("+13900", "13900.00")])
def test_an_scdl_amount_in_a_readable_spelling_is_converted(
        value: str, amount: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Negative zero is zero (no « -0.00 » in the output); a decimal comma with grouped
    thousands is the amount it says."""
    path = tmp_path / "budget.csv"
    path.write_bytes(with_amount(SCDL, ",", "BGT_MTREAL", value))
    assert main(["convert", str(path), "-o", str(tmp_path / "sortie.csv")]) == 0
    with (tmp_path / "sortie.csv").open(encoding="utf-8", newline="") as written:
        first = next(csv.DictReader(written))
    assert first["BGT_MTREAL"] == amount


@pytest.mark.parametrize("command", sorted(WRITES))
def test_an_output_that_is_no_regular_file_is_never_replaced(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A named pipe, or a link to /dev/null, was replaced by the output (renamed onto it):
    run as root, `-o /dev/null` would have replaced the machine's /dev/null by a CSV."""
    pipe = tmp_path / "tube"
    os.mkfifo(pipe)
    to_null = tmp_path / "vers-null.csv"
    to_null.symlink_to(os.devnull)
    for target in (pipe, to_null):
        assert "n'est pas un fichier ordinaire" in refused(capsys, command, str(CRACH), "-o",
                                                           str(target))
    assert stat.S_ISFIFO(pipe.lstat().st_mode) and to_null.is_symlink()
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tube", "vers-null.csv"]


@pytest.mark.parametrize("command", sorted(WRITES))
def test_an_output_gets_the_permissions_of_a_new_file_or_of_the_file_it_replaces(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Outputs were created 0600 (mkstemp's), unreadable to a web server publishing them; a
    link to the output was replaced by the file instead of its target."""
    umask = os.umask(0)
    os.umask(umask)
    new = tmp_path / WRITES[command]
    assert main([command, str(CRACH), "-o", str(new)]) == 0, capsys.readouterr().err
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    kept = tmp_path / f"publié-{WRITES[command]}"
    kept.write_text("précédent", encoding="utf-8")
    kept.chmod(0o640)
    link = tmp_path / f"dernier-{WRITES[command]}"
    link.symlink_to(kept.name)
    assert main([command, str(CRACH), "-o", str(link)]) == 0, capsys.readouterr().err
    assert link.is_symlink() and kept.read_bytes() == new.read_bytes()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


def test_a_demo_rebuilt_from_an_incomplete_folder_leaves_the_previous_demo(
        tmp_path: Path) -> None:
    """`demo --sources DIR` with a folder holding the national export and one document but
    not the SCDL file: the demo was emptied first, then left with one document of 20 (what
    the app opens on). It is now built beside and swapped in whole. (Library level: the
    command writes the package's own demo.)"""
    from budget_core.config import DEMO_DIR
    from budget_core.demo import NATIONAL_FILE, build_demo
    from budget_core.errors import FormatError
    from budget_core.store import Store

    demo = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, demo)
    shipped = sorted(Store(demo).documents()["doc_key"])
    sources = tmp_path / "sources"
    (sources / NATIONAL_FILE).parent.mkdir(parents=True)
    shutil.copy(FIXTURES / NATIONAL_FILE, sources / NATIONAL_FILE)
    (sources / "totem").mkdir()
    shutil.copy(CRACH, sources / "totem")
    with pytest.raises(FormatError, match=r"morbihan_CA_2021\.csv"):
        build_demo(target=demo, sources=sources)
    assert sorted(Store(demo).documents()["doc_key"]) == shipped
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "sources"]


@pytest.mark.parametrize("command", ["inspect", "convert"])
@pytest.mark.parametrize("element", ["a", "x:a"], ids=["budget namespace", "other namespace"])
def test_a_document_nested_too_deep_is_told_in_french(
        command: str, element: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """200 000 nested elements in a TOTEM root (made at test time, as tests/bad_inputs'
    generated files), in the budget's namespace or in a subtree the reader skips: expat holds
    every open element (a 21 MB file of them took 390 MiB), so past 256 levels — libxml2's
    default, which lxml applied — the document is refused, nothing written."""
    deep = tmp_path / "profond.xml"
    deep.write_text('<?xml version="1.0"?><DocumentBudgetaire xmlns="http://www.minefi.gouv.fr'
                    '/cp/demat/docbudgetaire" xmlns:x="urn:autre">'
                    + f"<{element}>" * 200_000 + f"</{element}>" * 200_000
                    + "</DocumentBudgetaire>", encoding="utf-8")
    output = ["-o", str(tmp_path / "sortie.csv")] if command == "convert" else []
    err = refused(capsys, command, str(deep), *output)
    assert not (tmp_path / "sortie.csv").exists()
    assert "plus de 256 éléments imbriqués" in err and "Traceback" not in err
