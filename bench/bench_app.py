"""Every page of the app in headless Chromium: first render and widget-change latency.

Run: python bench/bench_app.py [--rounds 3] [--changes 3] [--only explorer] [--no-cold]
     [--against ../main-worktree] [--cache DIR] [--query mode=chapitres]
     [--widget LABEL|all]

`--cache DIR` serves the app on another cache (BUDGET_CACHE_DIR), e.g. one holding a year of
DGFiP balances for all of France (bench_france.py prepares one); `--query` adds a query string
to every page's URL (`mode=chapitres` opens Se comparer by chapter).

What is measured, on the embedded demo data (BUDGET_DATA_DIR unset), against `streamlit run`
on 127.0.0.1 (one shared server, plus one per page for the cold render), with Debian's
Chromium (Playwright, 1440×900):
- first render: a new browser context (no cookie, no cache, a new Streamlit session) opens the
  page's URL; time from navigation start to the page settled. « cold server »: on a server
  started for that page alone (nothing imported, no Streamlit cache: the first visitor after a
  deploy; `--no-cold` skips it); « 1st visit »: the first visit of that page on the shared
  server (caches filled by the pages visited before it only); « next visits »: later rounds,
  which hit the server's caches as a returning visitor would;
- widget change: in that context, one widget is changed `--changes` times, alternating
  between two values (the main area's first selectbox, else radio, button group, toggle or
  text input, typed then Enter; else one in the main area's other tabs; else the sidebar's;
  never a button): time from the pointer going down on the new value (or Enter) to the page
  settled, pooled over rounds: median (min–max). The widget is found at run time, by its
  label, so pages others are editing are measured as they are; a page without one says so.
  Later rounds wait (up to 10 s) for the widget the first round found before looking: a page
  can settle before a component Streamlit loads on first use draws its widgets (seen at the
  scale of France), and another widget was then measured in that round. `--widget LABEL`
  changes the main area's widget of that label instead (a selectbox first, else any kind
  below, changed as `--widget all` changes it), on the pages that have one (e.g. `--widget
  Collectivité`: a change of budget, where the first selectbox only filters).
  `--widget all` changes every widget of every page instead (bench/widgets.py says how each
  kind is changed): each selectbox, multiselect (an option added, then removed), radio,
  button group, toggle or checkbox, slider, number input, text input and expander that
  reruns, of the main area (its other tabs too) and of the sidebar, found in the first round;
  each in a new context of its own (the page as first drawn), `--changes` times; one row per
  page and widget, the page's row pooling them all. Buttons, download buttons and file
  uploaders are never clicked (they download, sync or write: no widget change): the table
  says how many each page shows. A widget whose change starts no rerun within 5 s (an
  expander without `on_change`) is said so and left after that first try.
Settled means: a rerun began after the input (the app's `data-test-script-state` went through
`running`, or a message came from the server: a very fast rerun may never show « running »),
the app reports `notRunning`, no `stSpinner` is shown, and neither the DOM nor the server has
changed anything for 300 ms (charts drawn after the script ended count; the quiet window
itself does not). The end is the last DOM change. The column « script » is the last sign of
the script's run (finished state or last message from the server): the rest is drawing. The
column « python » is the server's own time in the runs the change caused (the entry script
times Streamlit's `ScriptRunner._run_script`, fragment reruns included, and logs each run):
the rest is Streamlit's messages, the network and the browser.

`--against DIR` serves another checkout (a worktree of main, say) on a second server beside
this one, with its own baseline page, and measures both alternately in the same rounds (this
checkout first in even rounds, the other first in odd ones), so that the load of the machine
falls on both alike; a last table compares them page by page. Pages are those of this
checkout's app.py; the first render on a cold server is measured for this checkout only.

Pages are read from app.py's `st.Page(..., url_path=...)` calls, so pages added later are
measured too. The baseline is a trivial page (one selectbox, one line of text) added to the
same navigation, served by the same server, measured by the same code in the same rounds,
interleaved with the pages (order rotated each round): what Streamlit itself costs for a page
load and a rerun on this machine. The same page is also served alone, by a `streamlit run` of
it with no app.py (« bare streamlit », measured beside the baseline in every round): the
difference is what app.py's navigation and the process's state (its imported modules, caches
and other sessions) add to a trivial rerun. A thin entry script (written to a temporary folder, with
`app_pages` linked into it) runs app.py unchanged, with `st.navigation` given the baseline
page in addition. Targets printed beside the figures: a widget change under 1 s (issue 11) and
under 200 ms (issue 13). Peak memory of the shared server process (its own VmHWM) is printed
at the end. The script exits 0 once the server is up; a page that fails is reported as such.
"""

from __future__ import annotations

import argparse
import ast
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import reduce
from pathlib import Path

from appserver import CHROMIUM, CHROMIUM_ARGS, NotStarted, streamlit_run
from measure import Spread, load, machine, ratio
from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from settled import OBSERVER, SETTLED
from widgets import (
    MAIN,
    SIDEBAR,
    WORDS,
    Found,
    Spot,
    changeable,
    every_widget,
    first_widget,
    found_at,
    locate,
    show_tab,
)

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "bench-baseline"
EVERY = "all"  # `--widget all`: every widget of each page
QUIET_MS = 300
TIMEOUT_MS = 30_000
TARGETS_S = (1.0, 0.2)  # issue 11, issue 13

TIMING = '''import os
import time
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

# Every run's Python time (a fragment's rerun too), one line per run, for the « python » column.
if not getattr(script_runner.ScriptRunner._run_script, "bench_timed", False):
    _run_script = script_runner.ScriptRunner._run_script

    def _timed(self, rerun_data):
        started = time.perf_counter()
        try:
            return _run_script(self, rerun_data)
        finally:
            with open(os.environ["BENCH_RUNS_LOG"], "a", encoding="utf-8") as log:
                log.write(f"{time.perf_counter() - started:.6f}\\n")

    _timed.bench_timed = True
    script_runner.ScriptRunner._run_script = _timed
'''
ENTRY = '''"""Benchmark entry (bench/bench_app.py): app.py unchanged, plus a baseline page."""
''' + TIMING + '''
if not getattr(st.navigation, "bench_baseline", False):
    _navigation = st.navigation

    def _with_baseline(pages, **kwargs):
        return _navigation([*pages, st.Page("baseline.py", title="Baseline",
                                            url_path="%(baseline)s")], **kwargs)

    _with_baseline.bench_baseline = True
    st.navigation = _with_baseline
APP = Path(%(app)r)
exec(compile(APP.read_text(encoding="utf-8"), str(APP), "exec"), {"__name__": "__main__"})
'''
BASELINE_PAGE = '''import streamlit as st

choice = st.selectbox("Choix", ["un", "deux", "trois"])
st.write(f"Choisi : {choice}")
'''
# The same page run alone by `streamlit run` (no app.py, no navigation, nothing imported but
# Streamlit): Streamlit's own floor for a rerun on this machine.
BARE_ENTRY = '''"""Benchmark entry (bench/bench_app.py): the baseline page alone."""
''' + TIMING + "\n" + BASELINE_PAGE
BARE = "bare streamlit"

# The input that started the first rerun after `mark`: the last pointer-down or Enter before it.
STARTED_BY = """(mark) => {
  const b = window.__bench;
  const shown = b.evidence(mark, false);
  if (shown === null) return false;
  const inputs = b.inputs.filter((t) => t >= mark && t <= shown);
  return inputs.length ? inputs[inputs.length - 1] : -1;
}"""
FINISHED = """(since) => {
  const b = window.__bench;
  const script = b.scriptEnd(since);
  return [Math.max(b.lastMutation, script), script];
}"""


@dataclass(frozen=True)
class PageSpec:
    title: str
    url_path: str
    default: bool


@dataclass
class Result:
    first: list[float] = field(default_factory=list)
    cold: float = float("nan")
    change: list[float] = field(default_factory=list)
    change_script: list[float] = field(default_factory=list)
    change_python: list[float] = field(default_factory=list)
    widget: str = ""
    found: Spot | None = None  # the widget first found
    rounds_without_widget: int = 0
    problems: list[str] = field(default_factory=list)
    # `--widget all`: the page's widgets (found in the first round), each one's figures (by
    # description) and how many of what is no widget change (buttons...) the page shows.
    spots: list[Spot] = field(default_factory=list)
    widgets: dict[str, Result] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def pages_of(app: Path) -> list[PageSpec]:
    """The pages app.py registers: every `st.Page(...)` call with a literal url_path."""
    found = []
    for node in ast.walk(ast.parse(app.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Page"):
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            if "url_path" not in keywords:
                continue
            title = keywords.get("title")
            default = keywords.get("default")
            found.append(PageSpec(
                ast.literal_eval(title) if title is not None else "",
                ast.literal_eval(keywords["url_path"]),
                bool(ast.literal_eval(default)) if default is not None else False))
    return found


def runs_log(folder: Path) -> Path:
    """Where the server of `folder` writes the Python time of each run, one line a run."""
    return folder / "runs.log"


@contextmanager
def server(folder: Path, root: Path = ROOT, *, bare: bool = False
           ) -> Iterator[tuple[str, int]]:
    """`streamlit run` of the entry script running `root`'s app.py (`bare`: the baseline page
    alone); yields (base URL, server pid)."""
    (folder / "app_pages").symlink_to(root / "app_pages", target_is_directory=True)
    entry = BARE_ENTRY if bare else ENTRY % {"baseline": BASELINE, "app": str(root / "app.py")}
    (folder / "entry.py").write_text(entry, encoding="utf-8")
    (folder / "baseline.py").write_text(BASELINE_PAGE, encoding="utf-8")
    runs_log(folder).touch()
    env = {k: v for k, v in os.environ.items() if k != "BUDGET_DATA_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    env["BENCH_RUNS_LOG"] = str(runs_log(folder))
    try:
        with streamlit_run(folder / "entry.py", cwd=root, env=env, log=folder / "server.log",
                           poll=0.3, stop_timeout=30) as served:
            yield served
    except NotStarted as exc:
        raise SystemExit(str(exc)) from None


def peak_mib(pid: int) -> float:
    """A live process's own peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_settled(page: Page, since: float, *, load: bool = False) -> tuple[float, float]:
    """Wait until settled; (end of the last DOM change, end of the script) in the page's
    clock. `load`: a page load, whose run must show « running »."""
    page.wait_for_function(SETTLED, arg=[since, QUIET_MS, load], timeout=TIMEOUT_MS,
                           polling=20)
    end, finished = page.evaluate(FINISHED, since)
    return end, finished


def chosen_widget(page: Page) -> Found | None:
    """The main area's widget labelled `--widget` (its selectbox if it has one), waited for
    (up to 10 s), if the page has one that can be changed (enabled; a selectbox with two
    options at least)."""
    label = os.environ.get("BENCH_WIDGET", "")
    if not label or label == EVERY or page.url.endswith(f"/{BASELINE}"):
        return None
    spots = [Spot(MAIN, "", testid, label) for testid in WORDS]  # selectbox first
    anywhere = reduce(Locator.or_, (locate(page, s) for s in spots))
    try:
        anywhere.first.wait_for(state="visible", timeout=10_000)
    except PlaywrightTimeoutError:
        return None
    spot = next(s for s in spots if locate(page, s).count())
    return found_at(page, spot) if changeable(page, locate(page, spot), spot.testid) else None


def find_widget(page: Page, before: Spot | None) -> Found | None:
    """The widget to change on this page: the main area's first, else one in the main area's
    other tabs, else the sidebar's. Buttons are never clicked (« Actualiser » starts a sync
    over the network). `before`: the widget found in an earlier round, waited for (up to
    10 s) first — a page can settle before a component loaded on first use draws its
    widgets, and another widget would then be measured in that round."""
    if before is not None:
        wait_for(page, before)
    found = first_widget(page, MAIN)
    if found:
        return found
    for tab in page.locator(f"{MAIN} [role='tab']").all():
        if tab.is_visible() and tab.get_attribute("aria-selected") != "true":
            name = tab.inner_text().strip()
            show_tab(page, name)
            found = first_widget(page, MAIN)
            if found:
                return found_at(page, replace(found.spot, tab=name))
    return first_widget(page, SIDEBAR)


def wait_for(page: Page, spot: Spot) -> None:
    """Wait (up to 10 s) for the widget at `spot` to show, its tab selected."""
    with suppress(PlaywrightTimeoutError):
        if spot.tab:
            page.locator(f"{MAIN} [role='tab']", has_text=spot.tab).first.wait_for(
                timeout=10_000)
            show_tab(page, spot.tab)
        locate(page, spot).wait_for(state="visible", timeout=10_000)


def open_page(browser: Browser, url: str, result: Result) -> tuple[BrowserContext, Page, float]:
    """A new context (no cookie, no cache: a new session) opening `url`; seconds from
    navigation start to the page settled."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(OBSERVER)
    page = context.new_page()
    page.goto(url, wait_until="commit")
    end, _ = wait_settled(page, 0.0, load=True)
    if page.locator("[data-testid='stException']").count():
        result.problems.append("exception shown on the page")
    return context, page, end / 1000


def cold_render(browser: Browser, folder: Path, spec: PageSpec, result: Result) -> None:
    """First render of `spec` on a server started for it alone: nothing imported or cached."""
    folder.mkdir()
    with server(folder) as (url, _):
        context, _, seconds = open_page(browser, address(url, spec), result)
        context.close()
    result.cold = seconds


def address(url: str, spec: PageSpec) -> str:
    path = f"{url}/" if spec.default else f"{url}/{spec.url_path}"
    query = os.environ.get("BENCH_QUERY", "")
    return f"{path}?{query}" if query and spec.url_path != BASELINE else path


def python_runs(log: Path) -> list[float]:
    return [float(line) for line in log.read_text(encoding="utf-8").split()]


def measure_page(browser: Browser, url: str, changes: int, result: Result, log: Path) -> None:
    """One round on one page: first render in a new context, then `changes` changes of its
    widget (`--widget all`: of each of its widgets, see `measure_every`); the Python time of
    the runs the server logged (`log`) during each change."""
    context, page, seconds = open_page(browser, url, result)
    try:
        result.first.append(seconds)
        if os.environ.get("BENCH_WIDGET") == EVERY:
            measure_every(browser, url, page, changes, result, log)
            return
        found = chosen_widget(page) or find_widget(page, result.found)
        if found is None:
            result.rounds_without_widget += 1
            return
        result.widget = found.description
        result.found = found.spot
        change_times(page, found.change, changes, [result], log)
    finally:
        context.close()


def measure_every(browser: Browser, url: str, page: Page, changes: int, result: Result,
                  log: Path) -> None:
    """`--widget all`: every widget the page shows (found in the first round, on `page`),
    each changed `changes` times in a new context of its own (the page as first drawn, a new
    session), its figures in `result.widgets` and pooled in `result`'s."""
    if not result.spots:
        result.spots, result.skipped = every_widget(page)
    if not result.spots:
        result.rounds_without_widget += 1
    result.widget = f"every widget ({len(result.spots)})"
    for spot in result.spots:
        found = result.widgets.setdefault(spot.description(), Result(widget=spot.description()))
        context, page, _ = open_page(browser, url, found)
        try:
            wait_for(page, spot)
            change_times(page, found_at(page, spot).change, changes, [found, result], log,
                         stop=True)
        except Exception as exc:  # one widget that fails must not stop the page's others
            found.problems.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        finally:
            context.close()


def change_times(page: Page, change: Callable[[], None], changes: int, results: list[Result],
                 log: Path, *, stop: bool = False) -> None:
    """`change()` done `changes` times, each timed from its input to the page settled, in
    each of `results`. A change that starts no rerun is not counted (`stop`: nor are the
    next ones tried: an expander with no `on_change` opens without a rerun)."""
    wait_settled(page, 0.0)  # opening the dropdown to count options must be over
    for _ in range(changes):
        runs_before = len(python_runs(log))
        mark = page.evaluate("performance.now()")
        change()
        try:
            since = page.wait_for_function(STARTED_BY, arg=mark, timeout=5_000).json_value()
        except PlaywrightTimeoutError:
            results[0].problems.append("a change started no rerun within 5 s (not counted)")
            if stop:
                return
            continue
        if since < 0:
            results[0].problems.append("a rerun started without input (not counted)")
            continue
        end, script = wait_settled(page, since)
        python = sum(python_runs(log)[runs_before:])
        for result in results:
            result.change.append((end - since) / 1000)
            result.change_script.append((script - since) / 1000)
            result.change_python.append(python)


def verdict(seconds: float) -> str:
    return " / ".join("yes" if seconds < t else "NO" for t in TARGETS_S)


def only(pages: list[PageSpec], names: str) -> list[PageSpec]:
    """The pages `--only` names: for each comma-separated name, the page whose url_path is
    that name if there is one, else every page whose url_path contains it."""
    if not names:
        return pages
    kept: set[str] = set()
    for name in names.split(","):
        paths = [p.url_path for p in pages]
        kept.update([name] if name in paths else [path for path in paths if name in path])
    return [p for p in pages if p.url_path in kept]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3, help="new contexts per page")
    parser.add_argument("--changes", type=int, default=3, help="widget changes per round")
    parser.add_argument("--only", default="",
                        help="only these pages, comma-separated: a page whose url_path is the "
                             "name given, else those whose url_path contains it (`comparer` is "
                             "Comparer alone, `compar` Comparer and Se comparer)")
    parser.add_argument("--no-cold", action="store_true",
                        help="skip the first render on a server started for each page")
    parser.add_argument("--against", type=Path, default=None,
                        help="another checkout (a worktree of main) served beside this one and "
                             "measured in the same rounds, alternately")
    parser.add_argument("--cache", type=Path, default=None,
                        help="the cache folder the servers read (BUDGET_CACHE_DIR): one whose "
                             "balances hold a year of all France, say (bench_france.py)")
    parser.add_argument("--widget", default="",
                        help="the selectbox to change, by its label (e.g. Collectivité), on "
                             "the pages that have one in their main area, the others as usual; "
                             "`all`: every widget of every page, one row each")
    parser.add_argument("--query", default="",
                        help="added to every page's URL but the baseline's, e.g. "
                             "mode=chapitres (Se comparer by chapter)")
    args = parser.parse_args()
    if args.cache:  # the servers inherit the environment
        os.environ["BUDGET_CACHE_DIR"] = str(args.cache.resolve())
    os.environ["BENCH_QUERY"] = args.query
    os.environ["BENCH_WIDGET"] = args.widget
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is needed (apt-get install -y chromium)")
    specs = only(pages_of(ROOT / "app.py"), args.only)
    specs.insert(0, PageSpec("Baseline (trivial page)", BASELINE, False))
    roots = {"this checkout": ROOT}
    if args.against:
        roots["against"] = args.against.resolve()
    results = {label: {spec.url_path: Result() for spec in specs} for label in roots}
    results[BARE] = {BASELINE: Result()}
    print(f"machine: {machine()}")
    print("checkouts: " + "; ".join(f"{label} {root}" for label, root in roots.items()))
    print(f"pages from app.py: {', '.join(s.url_path for s in specs[1:])}; "
          f"{args.rounds} rounds × {args.changes} changes, order rotated each round")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for number, spec in enumerate([] if args.no_cold else specs):
            try:
                cold_render(browser, Path(tmp) / f"cold-{number}", spec,
                            results["this checkout"][spec.url_path])
            except Exception as exc:
                results["this checkout"][spec.url_path].problems.append(
                    f"cold: {type(exc).__name__}")
        with ExitStack() as stack:
            served = {}
            for number, (label, root) in enumerate(roots.items()):
                folder = Path(tmp) / f"shared-{number}"
                folder.mkdir()
                url, pid = stack.enter_context(server(folder, root))
                served[label] = (url, pid, runs_log(folder))
            folder = Path(tmp) / "bare"
            folder.mkdir()
            url, pid = stack.enter_context(server(folder, bare=True))
            served[BARE] = (url, pid, runs_log(folder))
            measure_rounds(browser, served, specs, results, args.rounds, args.changes)
            peaks = {label: peak_mib(pid) for label, (_, pid, _) in served.items()}
        browser.close()
    for label in roots:
        report(label, specs, results[label], peaks[label])
    bare = results[BARE][BASELINE]
    print(f"\n{BARE}: the baseline page alone (`streamlit run` of it: no app.py, no "
          f"navigation), same rounds: change {Spread.of(bare.change).text(digits=3)}, python "
          f"{Spread.of(bare.change_python).text(digits=3)} ({len(bare.change)} changes)"
          + "".join(f"; {problem}" for problem in dict.fromkeys(bare.problems)))
    if args.against:
        compare(specs, results)


def measure_rounds(browser: Browser, served: dict[str, tuple[str, int, Path]],
                   specs: list[PageSpec], results: dict[str, dict[str, Result]], rounds: int,
                   changes: int) -> None:
    """Every page, `rounds` times in rotated order, on each server (checkouts alternating:
    this one first in even rounds, the other first in odd ones); the bare server's page beside
    the baseline."""
    for round_number in range(rounds):
        shift = round_number % len(specs)
        labels = list(served)[::-1 if round_number % 2 else 1]
        for spec in [*specs[shift:], *specs[:shift]]:
            for label in labels:
                if label == BARE and spec.url_path != BASELINE:
                    continue
                url, _, log = served[label]
                result = results[label][spec.url_path]
                try:
                    measure_page(browser, f"{url}/" if label == BARE else address(url, spec),
                                 changes, result, log)
                except Exception as exc:  # a page being edited by others must not stop us
                    result.problems.append(
                        f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")


def compare(specs: list[PageSpec], results: dict[str, dict[str, Result]]) -> None:
    """This checkout against the other, page by page (`--widget all`: and widget by widget),
    from the same rounds."""
    print("\nchange, median seconds (× its own baseline): this checkout against the other")
    table_head("page", "this checkout", "python", "against", "python", "this / against")
    bases = {label: Spread.of(found[BASELINE].change).median
             for label, found in results.items()}
    ours_all, theirs_all = results["this checkout"], results["against"]
    for spec in specs:
        ours, theirs = ours_all[spec.url_path], theirs_all[spec.url_path]
        rows = [(spec.url_path, ours, theirs)] + [
            (f"{spec.url_path}: {name}", ours.widgets.get(name, Result()),
             theirs.widgets.get(name, Result()))
            for name in dict.fromkeys([*ours.widgets, *theirs.widgets])]
        for name, mine, other in rows:
            cells = []
            for label, found in (("this checkout", mine), ("against", other)):
                change = Spread.of(found.change)
                cells.append((change.median, f"{change.text(digits=3)} "
                              f"({ratio(change.median, bases[label])})",
                              Spread.of(found.change_python).text(digits=3)))
            (our, our_text, our_python), (their, their_text, their_python) = cells
            print(f"| {name} | {our_text} | {our_python} | {their_text} | {their_python} | "
                  f"{ratio(our, their)} |")


def report(label: str, specs: list[PageSpec], results: dict[str, Result],
           server_peak: float) -> None:
    base = results[BASELINE]
    base_change = Spread.of(base.change).median
    print(f"\n{label}: seconds, median (min–max); « × base »: page median / baseline median; "
          "targets: change < 1 s (issue 11) / < 200 ms (issue 13)")
    table_head("page", "first render: cold server", "1st visit", "next visits", "× base",
               "widget changed", *CHANGE_COLUMNS)
    for spec in specs:
        result = results[spec.url_path]
        later = Spread.of(result.first[1:])
        first = f"{result.first[0]:.2f}" if result.first else "failed"
        cold = f"{result.cold:.2f}" if result.cold == result.cold else "n/a"
        print(f"| {spec.url_path} | {cold} | {first} | {later.text()} | "
              f"{ratio(later.median, Spread.of(base.first[1:]).median)} | "
              f"{result.widget or 'no widget'} | {changed(result, base_change)} |")
        if result.widget and result.rounds_without_widget:
            result.problems.append(f"no widget found in {result.rounds_without_widget} round(s)")
        for problem in dict.fromkeys(result.problems):
            print(f"  {spec.url_path}: {problem}")
    if any(results[spec.url_path].widgets for spec in specs):
        every(specs, results, base_change)
    print(f"streamlit server peak RSS (VmHWM): {server_peak:.0f} MiB; {load()} at the end")


CHANGE_COLUMNS = ("change", "script", "python", "× base", "changes", "< 1 s / < 0.2 s")


def table_head(*columns: str) -> None:
    """A Markdown table's header and its separator line."""
    print(f"| {' | '.join(columns)} |")
    print("|" + "---|" * len(columns))


def changed(result: Result, base_change: float) -> str:
    """The change columns of `result`'s row: change, script, python, × base, count,
    verdicts."""
    change = Spread.of(result.change)
    return (f"{change.text(digits=3)} | {Spread.of(result.change_script).text(digits=3)} | "
            f"{Spread.of(result.change_python).text(digits=3)} | "
            f"{ratio(change.median, base_change)} | {change.count} | "
            f"{verdict(change.median) if change.count else 'n/a'}")


def every(specs: list[PageSpec], results: dict[str, Result], base_change: float) -> None:
    """`--widget all`: one row per page and widget, slowest first within a page, and what
    each page shows that is no widget change."""
    print("\nevery widget: seconds, median (min–max) of its changes; « × base »: widget "
          "median / the baseline page's")
    table_head("page", "widget", *CHANGE_COLUMNS)
    for spec in specs:
        result = results[spec.url_path]
        ranked = sorted(result.widgets.values(), key=lambda r: -Spread.of(r.change).median
                        if r.change else 0.0)
        for found in ranked:
            print(f"| {spec.url_path} | {found.widget} | {changed(found, base_change)} |")
        for found in ranked:
            for problem in dict.fromkeys(found.problems):
                print(f"  {spec.url_path}, {found.widget}: {problem}")
        if result.skipped:
            print(f"  {spec.url_path}: not changed (no widget change: a click downloads, "
                  "syncs or writes): " + ", ".join(f"{count} {word}{'s' if count > 1 else ''}"
                                                   for word, count in result.skipped.items()))


if __name__ == "__main__":
    main()
