"""Documents made to mislead (issue 12, « Bad documents »): each is refused with a French message
naming where, or read right, through the library and the CLI alike.

The files are in tests/bad_inputs (see its README for how each was derived from a real
fixture); the large ones are generated here. Expected figures come from the fixtures' own
text (csv module, lxml), never from the readers under test.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from budget_core.cli import main
from budget_core.errors import FormatError
from budget_core.formats import read_documents, read_uploaded
from budget_core.http import Http, make_session
from budget_core.numbers import parse_amount
from budget_core.scdl import FLUSH_ROWS
from budget_core.sources.udata import UdataSource
from budget_core.validate import validate_file
from tests.conftest import FIXTURES, TOTEM
from tests.portal_server import running
from tests.rawxml import AMOUNTS, NS, budget_lines, value

BAD = Path(__file__).parent / "bad_inputs"
ROOT = Path(__file__).resolve().parent.parent
BP_XML = TOTEM / "crach_lotissement_BP_2022.xml"
BP_CSV = FIXTURES / "scdl_expected" / "crach_lotissement_BP_2022.csv"
CSV_TEXT = BP_CSV.read_text(encoding="utf-8")
FIRST_DEPENSE_LINE = next(n for n, line in enumerate(CSV_TEXT.splitlines(), 1) if "dépense" in line)

REFUSED = [  # file, what the message says, where it says it is
    # 10: amounts beyond decimal(18, 2), or in exponent notation
    ("amount_1e308.xml", "notation scientifique", "LigneBudget ligne 89, MtPrev"),
    ("amount_17_digits.xml", "hors limites : au plus 16 chiffres", "LigneBudget ligne 89, MtPrev"),
    ("amount_huge_exponent.csv", "notation scientifique", "ligne 2, colonne BGT_MTPREV"),
    ("amount_1e17.csv", "notation scientifique", "ligne 2, colonne BGT_MTPREV"),
    # 11: only ASCII digits are digits
    ("year_superscript.xml", "exercice « 202² » invalide", "BlocBudget/Exer"),
    ("year_superscript.csv", "exercice « 202² » invalide", "ligne 2, colonne BGT_ANNEE"),
    ("siret_fullwidth.csv", "SIRET « 2156004610008５ » invalide", "ligne 2, colonne BGT_SIRET"),
    ("siret_superscript.xml", "SIRET « 2156004610008⁵ » invalide", "EnTeteBudget/IdEtab"),
    # 12: figures that would have been silently wrong
    ("amount_comma_and_point.csv", "virgule et point à la fois", "ligne 2, colonne BGT_MTPREV"),
    ("amount_underscore.csv", "caractère « _ »", "ligne 2, colonne BGT_MTPREV"),
    ("amount_arabic_indic.csv", "(U+0666) : seuls les chiffres 0-9", "ligne 2, colonne BGT_MTPREV"),
    ("amount_fullwidth.xml", "(U+FF16) : seuls les chiffres 0-9", "LigneBudget ligne 89, MtPrev"),
    ("two_budgets.xml", "un second bloc <Budget>", "ligne 715"),
    ("duplicate_header.csv", "colonne BGT_MTREAL en double dans l'en-tête (colonnes 15 et 19)",
     "ligne 1 (en-tête)"),
    # 16: messages that misled
    ("utf16_no_bom.csv", "UTF-16 sans indicateur d'ordre des octets", ""),
    ("utf8_bad_byte.csv", "octet 0xE9 invalide en UTF-8", f"ligne {FIRST_DEPENSE_LINE}"),
    ("no_namespace.xml", "espace de noms de <DocumentBudgetaire> absent", "ligne 2"),
    ("year_0000.xml", "exercice « 0000 » invalide : une année de 2000 à", "BlocBudget/Exer"),
]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))  # an uncaught exception would fail the test: no traceback path
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("name", "words", "where"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_a_french_message_naming_where(
        capsys: pytest.CaptureFixture[str], name: str, words: str, where: str) -> None:
    path = BAD / name
    with pytest.raises(FormatError) as caught:
        read_documents(path)
    message = caught.value.french()
    assert f"Fichier « {name} »" in message and words in message and where in message
    assert "Que faire" in message

    code, out, err = cli(capsys, "inspect", str(path))
    assert (code, out) == (1, "")
    assert err.startswith(f"Erreur : Fichier « {name} »") and words in err

    code, out, _ = cli(capsys, "validate", str(path))
    assert code == 1 and "NON valide" in out and words in out
    report = validate_file(path)
    assert not report.valid and words in report.grouped()["fichier"][0].message


def test_a_bad_byte_after_a_utf8_bom_is_a_utf8_error() -> None:
    """The BOM says UTF-8: even with no other accent, the bad byte is not read as Latin-1."""
    data = b"\xef\xbb\xbf" + CSV_TEXT.encode("ascii", errors="replace").replace(
        b"recette", b"r\xe9cette", 1)
    line = next(n for n, text in enumerate(CSV_TEXT.splitlines(), 1) if "recette" in text)
    with pytest.raises(FormatError, match=f"ligne {line} : octet 0xE9 invalide en UTF-8"):
        read_uploaded(data, "bom.csv")


def _figures(document_lines: pd.DataFrame) -> pd.DataFrame:
    """The lines without what names the file they came from."""
    return document_lines.drop(columns=["source_file", "source_sha256"])


def _csv_sum(text: str, column: str, delimiter: str = ",") -> Decimal:
    rows = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return sum((Decimal(row[column]) for row in rows if row[column]), Decimal(0))


@pytest.mark.parametrize(("name", "original"), [
    ("utf16.xml", BP_XML), ("utf16_no_bom.xml", BP_XML), ("utf16.csv", BP_CSV),
    ("cr_line_ends.csv", BP_CSV), ("lowercase_header.csv", BP_CSV)])
def test_read_right_like_their_original(capsys: pytest.CaptureFixture[str], name: str,
                                        original: Path) -> None:
    [document] = read_documents(BAD / name)
    [expected] = read_documents(original)
    pd.testing.assert_frame_equal(_figures(document.lines), _figures(expected.lines))
    if original == BP_CSV:  # and the figure the file itself states
        assert document.lines["mt_prev"].sum() == _csv_sum(CSV_TEXT, "BGT_MTPREV")
    code, out, _ = cli(capsys, "inspect", str(BAD / name))
    assert code == 0 and "annee : 2022" in out


@pytest.mark.parametrize(("number", "siren"), [
    ("21560046100085", "215600461"), ("2156004６1", ""), ("21560046¹", "")])
def test_a_portal_siren_is_ascii_digits(number: str, siren: str) -> None:
    """The organisation record's business_number_id gives the publisher's SIREN: `６` is no
    digit (served as data.gouv.fr's recorded `/api/1/organizations/<id>/` answer)."""
    for server in running():
        server.publish("crach_principal_CA_2021.xml",
                       (TOTEM / "crach_principal_CA_2021.xml").read_bytes())
        server.udata_files = ["crach_principal_CA_2021.xml"]
        server.udata_sirets["646b7187b50b2a93b1ae3d45"] = number
        http = Http(make_session(retries=0), timeout=5)
        [found] = UdataSource("portail", server.url, queries=[]).resources(http)
        assert found.siren == siren


def test_a_population_in_superscript_digits_is_no_population() -> None:
    """`PopTot` is optional information: `3 44⁶` is not a number (it was a ValueError)."""
    [document] = read_documents(BAD / "population_superscript.xml")
    assert document.info.population is None
    [line] = etree.parse(str(BP_XML)).xpath("//d:Information[@Code='PopTot']", namespaces=NS)
    assert read_documents(BP_XML)[0].info.population == int("".join(line.get("V").split()))


def test_utf16_is_validated_like_utf8() -> None:
    """Same problems, same rows, whatever the encoding or the line ends."""
    expected = [(p.kind, p.row, p.column, p.message) for p in validate_file(BP_CSV).problems]
    for name in ("utf16.csv", "cr_line_ends.csv"):
        got = [(p.kind, p.row, p.column, p.message) for p in validate_file(BAD / name).problems]
        assert got == expected
    assert validate_file(BAD / "utf16.xml").valid == validate_file(BP_XML).valid


def test_lower_case_header_is_read_with_a_warning_and_refused_by_validate(
        capsys: pytest.CaptureFixture[str]) -> None:
    [document] = read_documents(BAD / "lowercase_header.csv")
    assert any("« bgt_natdec »" in w and "majuscules" in w for w in document.warnings)
    _, out, _ = cli(capsys, "inspect", str(BAD / "lowercase_header.csv"))
    assert "avertissement : En-tête non conforme au schéma SCDL" in out
    report = validate_file(BAD / "lowercase_header.csv")
    assert not report.valid
    [header] = report.grouped()["en-tête"]
    assert "« bgt_natdec »" in header.message
    assert "colonne manquante" not in report.grouped()  # the columns are there, mis-spelt
    # the rest is checked as in the conforming file
    assert len(report.problems) == len(validate_file(BP_CSV).problems) + 1


def test_french_grouped_thousands_are_read() -> None:
    """`1 234,56` (no-break space, decimal comma) in a `;` file is 1 234,56 €, in place of the
    first row's 62 975,00 €."""
    [document] = read_documents(BAD / "french_grouping.csv")
    expected = _csv_sum(CSV_TEXT, "BGT_MTPREV") - Decimal("62975.00") + Decimal("1234.56")
    assert document.lines["mt_prev"].sum() == expected


def _raw_sum(path: Path, amount: str) -> Decimal:
    return sum((Decimal(value(line, amount) or "0") for line in budget_lines(path)), Decimal(0))


def _lines_with_money(path: Path) -> int:
    return sum(any(Decimal(value(line, a) or "0") for a in AMOUNTS) for line in budget_lines(path))


def test_duplicated_lines_are_counted_and_said(capsys: pytest.CaptureFixture[str]) -> None:
    """Every LigneBudget of the BP written twice: figures doubled, as the file says, and a
    warning counting the copies (the lines that carry money: a copy of zeros changes nothing)."""
    path = BAD / "duplicated_lines.xml"
    [document] = read_documents(path)
    assert document.lines["mt_prev"].sum() == 2 * _raw_sum(BP_XML, "MtPrev") == \
        _raw_sum(path, "MtPrev")
    copies = _lines_with_money(BP_XML)
    assert copies > 0
    assert f"{copies} ligne(s) identique(s) à une autre ligne" in " ".join(document.warnings)
    _, out, _ = cli(capsys, "inspect", str(path))
    assert f"avertissement : {copies} ligne(s) identique(s)" in out
    [original] = read_documents(BP_XML)
    assert not any("identique" in w for w in original.warnings)
    assert (document.duplicate_lines, original.duplicate_lines) == (copies, 0)
    report = validate_file(path)
    [said] = report.grouped()["lignes en double"]
    assert said.severity == "avertissement" and f"{copies} ligne(s) identique(s)" in said.message
    assert "lignes en double" not in validate_file(BP_XML).grouped()


@pytest.mark.parametrize("copies", [5_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_copies_of_one_line_are_said(tmp_path: Path, copies: int) -> None:
    """The attack's 100 000 copies (~10 s to read on 2 cores) run with -m slow."""
    text = BP_XML.read_bytes()
    start, end = text.index(b"<LigneBudget>"), text.index(b"</LigneBudget>") + 14
    path = tmp_path / "copies.xml"
    path.write_bytes(text[:start] + text[start:end] * copies + text[end:])
    [document] = read_documents(path)
    others = len(budget_lines(BP_XML)) - 1
    assert len(document.lines) == copies + others
    assert any(w.startswith(f"{copies - 1} ligne(s) identique(s)") for w in document.warnings)


@pytest.mark.parametrize(("text", "totem", "scdl"), [
    ("95000.00", "95000.00", "95000.00"),  # what every real file writes
    ("-12.5", "-12.50", "-12.50"),
    ("62975", "62975.00", "62975.00"),
    ("9999999999999999.99", "9999999999999999.99", "9999999999999999.99"),  # the largest
    ("12,5", None, "12.50"),  # decimal comma: French SCDL exports
    ("1 234,56", None, "1234.56"),
    ("1\u00a0234\u202f567,50", None, "1234567.50"),  # no-break and narrow no-break spaces
    ("12 34", None, None),  # a space that groups nothing
    ("1,234", None, None),  # thousands or decimals? refused, not read as 1,23
    ("1.234", None, None),
    ("1.234,56", None, None),
    ("0.001", None, None),
    ("10000000000000000", None, None),  # 17 integer digits
    ("1e3", None, None),
    ("NaN", None, None),
    ("Infinity", None, None),
    ("٣", None, None),
])
def test_amount_grammar(text: str, totem: str | None, scdl: str | None) -> None:
    for is_scdl, expected in ((False, totem), (True, scdl)):
        if expected is None:
            with pytest.raises(FormatError, match="montant"):
                parse_amount(text, source="f", where="w", scdl=is_scdl)
        else:
            assert str(parse_amount(text, source="f", where="w", scdl=is_scdl)) == expected


# -- bounded work (13) ---------------------------------------------------------------------

WRAPPER = textwrap.dedent("""
    import resource, subprocess, sys
    code = subprocess.call(sys.argv[1:])
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(code, used.ru_utime + used.ru_stime, used.ru_maxrss // 1024)
""")


def peak_of(code: str, *args: str) -> tuple[int, float, int]:
    """Exit code, CPU seconds (user + system) and peak RSS (MB) of `python -c code args` in a
    fresh process, measured by a wrapper process so nothing else this test run started counts.
    CPU time, not wall time: the other test worker and whatever else the machine runs do not
    count in it."""
    done = subprocess.run([sys.executable, "-c", WRAPPER, sys.executable, "-c", code, *args],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    status, seconds, megabytes = done.stdout.split()[-3:]
    return int(status), float(seconds), int(megabytes)


CLI = "import sys; from budget_core.cli import main; sys.exit(main(sys.argv[1:]))"
READ = ("import sys; from pathlib import Path; from budget_core.formats import read_documents;"
        " assert len(read_documents(Path(sys.argv[1]))) == int(sys.argv[2])")


def _many_sirets(path: Path, count: int) -> Path:
    """The lotissement's first row once per SIRET (4.7 MB for 25 000 in the attack)."""
    header, row = CSV_TEXT.splitlines()[:2]
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        for number in range(count):
            out.write(row.replace("21560046100085", f"215600{number:08d}") + "\n")
    return path


def test_a_file_of_25000_sirets_is_refused_fast_and_small(tmp_path: Path) -> None:
    """Was 2.6 GB then MemoryError. Bound: under 10 s of CPU and 400 MB (the imports alone
    take ~150 MB), the error at the line of the 1 001st document."""
    path = _many_sirets(tmp_path / "sirets.csv", 25_000)
    for command in ("inspect", "validate"):
        code, seconds, megabytes = peak_of(CLI, command, str(path))
        assert code == 1 and seconds < 10 and megabytes < 400, (command, seconds, megabytes)
    with pytest.raises(FormatError, match=r"ligne 1002 : plus de 1000 documents"):
        read_documents(path)


def test_a_thousand_documents_are_read_in_bounded_memory(tmp_path: Path) -> None:
    """The most a file may hold: read under 500 MB (~100 kB a document over the imports)."""
    path = _many_sirets(tmp_path / "sirets.csv", 1_000)
    code, _, megabytes = peak_of(READ, str(path), "1000")
    assert code == 0 and megabytes < 500, megabytes


def test_a_large_real_csv_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """Morbihan's real rows repeated to 12 MB (50 000 lines, one document): under 290 MB peak,
    imports included (331 MB when each row waited as a dict of fresh strings; 50 MB took
    800 MB, now 440 MB)."""
    header, *rows = (FIXTURES / "scdl_expected" / "morbihan_CA_2021.csv").read_text(
        encoding="utf-8").splitlines()
    path = tmp_path / "morbihan_x40.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        for number in range(50_000):
            out.write(rows[number % len(rows)] + "\n")
    code, _, megabytes = peak_of(READ, str(path), "1")
    assert code == 0 and megabytes < 290, megabytes


@pytest.mark.parametrize("megabytes", [2, pytest.param(1000, marks=pytest.mark.slow)])
def test_validate_refuses_a_file_without_line_breaks_without_reading_it_whole(
        tmp_path: Path, megabytes: int) -> None:
    """The 1 GB variant was a MemoryError: refused from its first MB, under 400 MB."""
    path = tmp_path / "une_ligne.csv"
    with path.open("wb") as out:
        out.write(b"BGT_NATDEC,")
        for _ in range(megabytes):
            out.write(b"A" * 1_000_000)
    report = validate_file(path)
    assert not report.valid
    assert "aucune fin de ligne dans le premier Mo" in report.grouped()["fichier"][0].message
    code, _, peak = peak_of(CLI, "validate", str(path))
    assert code == 1 and peak < 400, peak


# -- bounded memory for big SCDL files (issue 12 point 13, streamed reading) ---------------

MORBIHAN = FIXTURES / "scdl_expected" / "morbihan_CA_2021.csv"
RAW_AMOUNTS = ("MTREAL", "MTBUDGPREC", "MTRARPREC", "MTPROPNOUV", "MTPREV", "CREDOUV",
               "MTRAR3112")
UPLOAD = ("import sys; from pathlib import Path; from budget_core.formats import read_uploaded;"
          " data = Path(sys.argv[1]).read_bytes();"  # what Streamlit holds of an upload
          " assert len(read_uploaded(data, 'depot.csv')) == 1")


def _morbihan_repeated(path: Path, megabytes: int) -> int:
    """Morbihan's real rows repeated until the file weighs `megabytes` MB (one document);
    returns the number of data rows."""
    header, *rows = MORBIHAN.read_text(encoding="utf-8").splitlines()
    block = ("\n".join(rows) + "\n").encode("utf-8")
    copies = -(-megabytes * 1_000_000 // len(block))
    with path.open("wb") as out:
        out.write(header.encode("utf-8") + b"\n")
        for _ in range(copies):
            out.write(block)
    return copies * len(rows)


@pytest.mark.slow
def test_a_200_mb_csv_costs_its_lines_not_copies_of_its_text(tmp_path: Path) -> None:
    """Before the reading was streamed, 191 MiB of Morbihan's rows took 1 297 MiB to
    `inspect` (6.8× the file) and 1 239 MiB to read as an upload (6.5×; the attack's 199 MB
    upload took the server from 367 MB to 1.9 GB). Measured since: 731 MiB to read the file
    (3.8×) and 907 MiB as an upload (4.8×, its bytes included): the imports (~150 MiB), the
    document's lines in Arrow (445 MiB, 555 bytes a line) and no copy of the text."""
    path = tmp_path / "morbihan_200MB.csv"
    _morbihan_repeated(path, 200)
    size_mib = path.stat().st_size / 2**20
    code, _, peak = peak_of(READ, str(path), "1")
    assert code == 0 and peak < 4.3 * size_mib, (peak, size_mib)
    code, _, peak = peak_of(UPLOAD, str(path))
    assert code == 0 and peak < 5.3 * size_mib, (peak, size_mib)


@pytest.mark.slow  # two sizes, 20 MB and 1 GB, each validated in its own process
@pytest.mark.parametrize("megabytes", [20, 1000])
def test_validate_memory_does_not_grow_with_the_file(tmp_path: Path, megabytes: int) -> None:
    """`validate` on a 1 GB file was a MemoryError: now it reads the file a MB at a time,
    tallies the budget rules a batch of lines at a time and keeps no line, so 1 GB costs what
    20 MB cost (under 400 MB, imports and frictionless included)."""
    path = tmp_path / "morbihan.csv"
    _morbihan_repeated(path, megabytes)
    code, _, peak = peak_of(CLI, "validate", str(path))
    assert code == 1 and peak < 400, peak


def test_validate_tallies_a_file_read_in_parts(tmp_path: Path) -> None:
    """What `validate` says of a file it reads in parts (4 MB: four reads of a MB, two batches
    of 10 000 lines) is what the whole file holds. The file is invalid on every row
    (« Compte administratif » capitalised, as the reference converter writes it): 1 000
    problems are listed and the others counted."""
    path = tmp_path / "morbihan.csv"
    rows = _morbihan_repeated(path, 4)
    assert rows > FLUSH_ROWS  # a batch, then the rest
    report = validate_file(path)
    assert report.documents == 1
    # the schema check stops at 1 000 problems and says so
    assert report.schema_stopped and "arrêtée après 1 000 problèmes" in report.french()
    # the budget rules still saw every line: exact copies counted over the whole file,
    # from the raw rows (the 1 200 rows carrying money, 1 199 of them distinct)
    raw = list(csv.DictReader(io.StringIO(MORBIHAN.read_text(encoding="utf-8"))))
    money = [tuple(r.values()) for r in raw
             if any(Decimal(r[f"BGT_{a}"] or "0") for a in RAW_AMOUNTS)]
    copies = rows // len(raw) * len(money) - len(set(money))
    [said] = report.grouped()["lignes en double"]
    assert f"(22560001400016) : {copies} ligne(s) identique(s)" in said.message


def _luhn_ok(digits: str) -> bool:
    """The Luhn key, written here independently of the validator."""
    total = sum(int(d) if i % 2 == 0 else sum(divmod(int(d) * 2, 10))
                for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def test_problems_beyond_a_thousand_of_a_kind_are_counted_not_listed(tmp_path: Path) -> None:
    """Every row's SIRET key wrong would list millions of problems for a big file."""
    path = _many_sirets(tmp_path / "sirets.csv", 5_000)
    wrong = sum(not _luhn_ok(f"215600{number:08d}") for number in range(5_000))
    assert wrong > 1_000
    report = validate_file(path)
    assert len(report.grouped()["SIRET"]) == 1_000
    assert report.unlisted["SIRET"] == wrong - 1_000
    assert f"SIRET ({wrong})" in report.french()
    assert f"… et {wrong - 50} autre(s)" in report.french()
    assert report.as_dict()["problemes"]["SIRET"]["non_listes"] == wrong - 1_000
    assert not report.valid


def test_a_line_of_a_million_characters_is_refused_at_its_line(tmp_path: Path) -> None:
    """Past the header, a line is read whole before the csv module splits it: one over a
    million characters is refused, not held in memory."""
    header, first = CSV_TEXT.splitlines()[:2]
    path = tmp_path / "longue.csv"
    path.write_text(f"{header}\n{first}\n{first[:-1]}{'x' * 1_000_000}\n", encoding="utf-8")
    with pytest.raises(FormatError, match="ligne 3 : ligne d'un million de caractères"):
        read_documents(path)
