"""When a Streamlit page has settled, seen from inside the page: shared by bench/bench_app.py
(which times it) and the browser tests (tests/conftest.py, which wait for it instead of
sleeping).

`OBSERVER` is an init script (`context.add_init_script`): it records in `window.__bench` the
user's inputs, the app's script-state changes, the messages from the server and the last DOM
change. `SETTLED([since, quiet, strict])` is true once a rerun began after `since` (see
`evidence`), the app reports `notRunning`, no `stSpinner` is shown, and neither the DOM nor the
server has changed anything for `quiet` ms.
"""

# Records, in the page's own clock: inputs, script-state changes, messages from the server and
# the last DOM change. A very fast rerun may never show « running » in the DOM (React batches
# it), so a message from the server after the input also counts as the rerun having begun.
OBSERVER = """
const bench = {states: [], messages: [], inputs: [], lastMutation: performance.now()};
window.__bench = bench;
// A change starts when the user's pointer goes down on the widget, or Enter (event time).
document.addEventListener('pointerdown', (e) => bench.inputs.push(e.timeStamp), true);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') bench.inputs.push(e.timeStamp);
}, true);
const NativeSocket = window.WebSocket;
window.WebSocket = class extends NativeSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => bench.messages.push(performance.now()));
  }
};
bench.evidence = (since, strict) => {  // when the first run after `since` showed, or null
  const run = bench.states.find(([t, before, after]) => t >= since &&
                                (before === 'running' || after === 'running'));
  // A page load exchanges messages before its script runs: there, only « running » counts.
  const message = strict ? undefined : bench.messages.find((t) => t >= since);
  const times = [run ? run[0] : null, message ?? null].filter((t) => t !== null);
  return times.length ? Math.min(...times) : null;
};
bench.scriptEnd = (since) => {  // the last sign of the script's run: finished or a message
  const done = bench.states.filter(([t, , after]) => t >= since && after === 'notRunning');
  return Math.max(done.length ? done[done.length - 1][0] : since,
                  bench.messages.length ? bench.messages[bench.messages.length - 1] : since);
};
new MutationObserver((records) => {
  const now = performance.now();
  bench.lastMutation = now;
  for (const r of records) {
    if (r.type === 'attributes' && r.attributeName === 'data-test-script-state') {
      bench.states.push([now, r.oldValue, r.target.getAttribute(r.attributeName)]);
    }
  }
}).observe(document, {subtree: true, childList: true, attributes: true,
                      characterData: true, attributeOldValue: true});
"""
SETTLED = """([since, quiet, strict]) => {
  const b = window.__bench;
  const app = document.querySelector("[data-testid='stApp']");
  if (!b || !app || b.evidence(since, strict) === null) return false;
  return app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector("[data-testid='stSpinner']")
    && performance.now() - Math.max(b.lastMutation, b.scriptEnd(since)) > quiet;
}"""
