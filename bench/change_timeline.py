"""Where the time of one widget change goes, step by step: a diagnostic beside bench_app.py.

Run: python bench/change_timeline.py [--page explorer] [--widget Collectivité]
     [--kind multiselect] [--tab TAB] [--changes 6] [--cache DIR] [--checkout DIR] [--events]

`bench_app.py` says how long a change takes; this says where it goes. The app is served with
an entry script that records, in the server's clock, each message from the browser, each run
(fragment reruns included), Streamlit's `gc.collect` after a run (and how many objects it
walks), and each message sent (its type, element, size, and whether Streamlit flagged it as set
by the script, `has_one_shot_effect`: the browser then rebuilds the element instead of keeping
it). In Chromium (1440×900), `bench/settled.py`'s observer records the pointer going down and
the last DOM change, and Chromium's trace the thread time of each task of the page's main
thread. Each change of the main area's widget `--widget` (a selectbox unless `--kind` names
another kind; changed as `bench_app.py` changes it, `widgets.py`) prints one line, in ms from
the pointer going down: when the server got the request, each run's start and end, the last
message sent, the last DOM change; then the server process's CPU time and the browser main
thread's over the change, the messages sent (page-info ones: URL writes) and the elements
flagged. CPU times move much less than wall times on a
machine shared with other jobs: compare checkouts on them (`--checkout`, run alternately).
`--events` prints every event of the last change.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from appserver import CHROMIUM, CHROMIUM_ARGS, streamlit_run
from bench_app import QUIET_MS, STARTED_BY, TIMEOUT_MS
from playwright.sync_api import Page, sync_playwright
from settled import OBSERVER, SETTLED
from widgets import CHANGERS, MAIN, WORDS, Spot, show_tab

ROOT = Path(__file__).resolve().parent.parent
# Prepended to app.py in the entry script: Streamlit's own functions wrapped to log events.
RECORDER = '''import gc, json, os, time
from streamlit.runtime import runtime
from streamlit.runtime.scriptrunner import script_runner
from streamlit.web.server.starlette import starlette_websocket

def _log(*event):
    with open(os.environ["TIMELINE_LOG"], "a", encoding="utf-8") as out:
        out.write(json.dumps([time.time() * 1000, time.process_time() * 1000, *event]) + "\\n")

if not getattr(runtime.Runtime.handle_backmsg, "timeline", False):
    def _wrap(owner, name, before, after=None):
        wrapped = getattr(owner, name)
        def call(*args, **kwargs):
            before(*args)
            try:
                return wrapped(*args, **kwargs)
            finally:
                if after:
                    after()
        call.timeline = True
        setattr(owner, name, call)

    _wrap(runtime.Runtime, "handle_backmsg",
          lambda self, session, msg: _log("request", msg.WhichOneof("type")))
    _wrap(script_runner.ScriptRunner, "_run_script",
          lambda self, data: _log("run", len(data.fragment_id_queue)), lambda: _log("run end"))

    def _sent(self, msg):
        kind, element, flagged = msg.WhichOneof("type"), "", False
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element.WhichOneof("type")
            flagged = msg.delta.new_element.has_one_shot_effect
        _log("sent", kind, element, flagged, msg.ByteSize())
    _wrap(starlette_websocket.StarletteSessionClient, "write_forward_msg", _sent)

    class _TimedGc:
        def __getattr__(self, name):
            return getattr(gc, name)
        def collect(self, *args):
            _log("gc", len(gc.get_objects()))
            try:
                return gc.collect(*args)
            finally:
                _log("gc end")
    script_runner.gc = _TimedGc()
'''
ENTRY = RECORDER + '''
APP = %(app)r
exec(compile(open(APP, encoding="utf-8").read(), APP, "exec"), {"__name__": "__main__"})
'''
# The last input before the rerun, the last DOM change, both in epoch ms.
TIMES = """(since) => [performance.timeOrigin + since,
                   performance.timeOrigin + window.__bench.lastMutation]"""


def main_thread_cpu(trace: dict[str, Any]) -> float:
    """Thread time (ms) of the tasks of the page's main thread in a Chromium trace."""
    events = trace["traceEvents"]
    main = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name"
            and e["args"].get("name") == "CrRendererMain"}
    return sum(e.get("tdur", 0) for e in events if e.get("name") == "RunTask"
               and e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in main) / 1000


def one_change(page: Page, change: Any, log: Path) -> dict[str, Any]:
    """Change the widget once; the server's events and the browser's times of that change."""
    page.wait_for_function(SETTLED, arg=[0, QUIET_MS, False], timeout=TIMEOUT_MS, polling=20)
    logged = len(log.read_text(encoding="utf-8").splitlines())
    mark = page.evaluate("performance.now()")
    page.context.browser.start_tracing(page=page, categories=["devtools.timeline",
                                                          "disabled-by-default-devtools.timeline"])
    change()
    since = page.wait_for_function(STARTED_BY, arg=mark, timeout=5_000).json_value()
    page.wait_for_function(SETTLED, arg=[since, QUIET_MS, False], timeout=TIMEOUT_MS,
                           polling=20)
    trace = json.loads(page.context.browser.stop_tracing())
    start, last = page.evaluate(TIMES, since)
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()[logged:]]
    return {"start": start, "last": last, "events": events, "browser_cpu": main_thread_cpu(trace)}


def summary(found: dict[str, Any]) -> dict[str, Any]:
    start, events = found["start"], found["events"]
    at = [(wall - start, name, rest) for wall, _, name, *rest in events]
    sent = [rest for _, name, rest in at if name == "sent"]
    return {
        "request": next((t for t, name, _ in at if name == "request"), None),
        "runs": [round(t) for t, name, _ in at if name in ("run", "run end")],
        "gc": [round(t) for t, name, _ in at if name in ("gc", "gc end")],
        "last sent": max((t for t, name, _ in at if name == "sent"), default=None),
        "last DOM change": found["last"] - start,
        "server CPU": events[-1][1] - events[0][1] if events else 0.0,
        "browser CPU": found["browser_cpu"],
        "messages": len(sent),
        "URL writes": sum(1 for kind, *_ in sent if kind == "page_info_changed"),
        "flagged": sum(1 for _, _, flagged, _ in sent if flagged),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--page", default="explorer", help="the page's url_path")
    parser.add_argument("--widget", default="Collectivité", help="the widget's label")
    parser.add_argument("--kind", default="selectbox", choices=sorted(WORDS.values()),
                        help="the widget's kind")
    parser.add_argument("--tab", default="", help="the main area's tab holding the widget")
    parser.add_argument("--changes", type=int, default=6)
    parser.add_argument("--cache", type=Path, default=None, help="BUDGET_CACHE_DIR")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the app served")
    parser.add_argument("--events", action="store_true", help="every event of the last change")
    args = parser.parse_args()
    root = args.checkout.resolve()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        folder = Path(tmp)
        # st.Page paths are read beside the entry script, as bench_app.py serves them.
        (folder / "app_pages").symlink_to(root / "app_pages", target_is_directory=True)
        (folder / "entry.py").write_text(ENTRY % {"app": str(root / "app.py")},
                                         encoding="utf-8")
        log = folder / "timeline.log"
        log.touch()
        env = {k: v for k, v in os.environ.items() if k != "BUDGET_DATA_DIR"}
        env.update(PYTHONPATH=str(root), TIMELINE_LOG=str(log))
        if args.cache:
            env["BUDGET_CACHE_DIR"] = str(args.cache.resolve())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with streamlit_run(folder / "entry.py", cwd=root, env=env,
                           log=folder / "server.log") as (url, _):
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.context.add_init_script(OBSERVER)
            page.goto(f"{url}/{args.page}", wait_until="commit")
            page.wait_for_function(SETTLED, arg=[0, QUIET_MS, True], timeout=TIMEOUT_MS,
                                   polling=20)
            show_tab(page, args.tab)
            testid = next(t for t, word in WORDS.items() if word == args.kind)
            change = CHANGERS[testid](page, Spot(MAIN, args.tab, testid, args.widget))
            one_change(page, change, log)  # the first change fills the caches: not shown
            found = [one_change(page, change, log) for _ in range(args.changes)]
        browser.close()
    rows = [summary(f) for f in found]
    for row in rows:
        print({key: round(value) if isinstance(value, float) else value
               for key, value in row.items()})
    for key in ("last DOM change", "server CPU", "browser CPU", "messages"):
        print(f"{key}: median {statistics.median(row[key] for row in rows):.0f}")
    if args.events:
        start = found[-1]["start"]
        for wall, cpu, name, *rest in found[-1]["events"]:
            print(f"{wall - start:8.1f} ms  cpu {cpu:9.1f}  {name} {' '.join(map(str, rest))}")


if __name__ == "__main__":
    main()
