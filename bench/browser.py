"""Figures in Chromium: stand-in status change → editor DOM, and editor load time for large graphs.

Both use the whole app in Reflex prod mode (`bench.reflex_app`) with the fal stand-in in its own
process, and Debian's Chromium through Playwright. Timestamps on both sides come from this
machine's clock: the stand-in records `time.time()`, and the page records
`performance.timeOrigin + performance.now()` from a MutationObserver on the node badges.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.api_client import PASSWORD
from bench.documents import IMAGE_TO_IMAGE, TEXT_TO_IMAGE, fal_chain
from bench.processes import StandinProcess
from bench.profiles import Profile
from bench.reflex_app import ReflexApp
from bench.results import FigureResult, FigureStatus, Metric
from bench.run_store import RunStore
from bench.stats import Summary, percentile

logger = logging.getLogger("bench.browser")

DOM_KEY = "dom_latency"
EDITOR_KEY = "editor_load"
MAX_DOM_P95_MS = 250.0
MAX_EDITOR_LOAD_MS = 2000.0
EDITOR_TARGET_NODES = 300
DOM_CHAIN_NODES = 5
DOM_LATENCY_SECONDS = 1.0
POLL_SECONDS = 0.1
STANDIN_LOG_LINES = 3
RUN_TIMEOUT_MS = 180_000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]

# Logs every change of a node's status badge with the time it reached the DOM. A reset clears
# the log but keeps the last status seen per node, so a badge left over from the previous run
# is not logged again.
OBSERVER_SCRIPT = """
() => {
  const last = new Map();
  window.__benchSeen = [];
  window.__benchReset = () => { window.__benchSeen = []; };
  const scan = () => {
    const now = performance.timeOrigin + performance.now();
    for (const node of document.querySelectorAll('.react-flow__node')) {
      const badge = node.querySelector('.ff-node-header .ff-status');
      const status = badge ? badge.dataset.status : '';
      if (last.get(node.dataset.id) !== status) {
        last.set(node.dataset.id, status);
        window.__benchSeen.push({node: node.dataset.id, status: status, at: now / 1000});
      }
    }
  };
  new MutationObserver(scan).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['data-status', 'class']});
  scan();
}
"""

# True once `count` nodes have shown another status and then 'succeeded' since the last reset.
ALL_SUCCEEDED_SCRIPT = """
(count) => {
  const state = new Map();
  for (const entry of window.__benchSeen) {
    if (entry.status !== 'succeeded') state.set(entry.node, 'active');
    else if (state.get(entry.node) === 'active') state.set(entry.node, 'done');
  }
  return [...state.values()].filter((value) => value === 'done').length >= count;
}
"""


def chromium_version() -> str | None:
    try:
        output = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return output.stdout.strip() or None


def grid_chain(nodes: int) -> dict[str, Any]:
    """Return a chain of `nodes` fal nodes laid out ten to a row, as a user would arrange a large graph."""
    document = fal_chain(nodes, seed=3)
    for index, node in enumerate(document["nodes"]):
        node["position"] = {"x": (index % 10) * 340, "y": (index // 10) * 300}
    return document


def _sign_up(page: Any, app_url: str) -> str:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(f"{app_url}/signup")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#auth-submit")
    page.wait_for_url(f"{app_url}/workflows**")
    return email


def _bearer(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _create(client: httpx.Client, headers: dict[str, str], name: str, document: dict[str, Any]) -> str:
    response = client.post("/api/workflows", json={"name": name, "document": document}, headers=headers)
    if response.status_code != 201:
        raise RuntimeError(f"creating workflow {name!r} failed with {response.status_code}: {response.text[:300]}")
    return str(response.json()["id"])


def _open_editor(page: Any, app_url: str, workflow_id: str, nodes: int) -> None:
    page.goto(f"{app_url}/workflows/{workflow_id}")
    page.wait_for_function(f"() => document.querySelectorAll('.react-flow__node .ff-node').length >= {nodes}",
                           timeout=60_000)


def first_changes(entries: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """Return when each (node, status) first reached the DOM in one run's badge log."""
    first: dict[tuple[str, str], float] = {}
    for entry in entries:
        first.setdefault((str(entry["node"]), str(entry["status"])), float(entry["at"]))
    return first


def _wait_for_new_run(store: RunStore, previous: str | None) -> str:
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        with contextlib.suppress(LookupError):
            latest = store.latest_run_id()
            if latest != previous:
                return latest
        time.sleep(0.05)
    raise TimeoutError("the editor's run button started no run")


@dataclass
class DomSamples:
    """Latencies in seconds from the stand-in's status change to the badge, and the two halves of 'succeeded'."""

    succeeded: list[float] = field(default_factory=list)
    running: list[float] = field(default_factory=list)
    # From the stand-in's completion to the engine marking the item succeeded.
    engine: list[float] = field(default_factory=list)
    # From the engine marking the item succeeded to the badge showing it.
    page: list[float] = field(default_factory=list)
    missing: int = 0


def _dom_latencies(page: Any, standin: StandinProcess, store: RunStore, runs: int, nodes: int) -> DomSamples:
    """Run the chain `runs` times from the editor and collect the badge latencies of every node."""
    page.evaluate(OBSERVER_SCRIPT)
    samples = DomSamples()
    for _ in range(runs):
        standin.reset()
        page.evaluate("() => window.__benchReset()")
        try:
            previous: str | None = store.latest_run_id()
        except LookupError:
            previous = None
        page.click("#run-options")
        page.click("#run-force")
        run_id = _wait_for_new_run(store, previous)
        page.wait_for_function(ALL_SUCCEEDED_SCRIPT, arg=nodes, timeout=RUN_TIMEOUT_MS)
        seen = first_changes(page.evaluate("() => window.__benchSeen"))
        by_request = {request["request_id"]: request for request in standin.requests()}
        for item in store.items(run_id):
            request = by_request.get(item.fal_request_id or "")
            badge_time = seen.get((item.node_id, "succeeded"))
            if request is None or badge_time is None or request["completed_at"] is None:
                samples.missing += 1
                continue
            samples.succeeded.append(badge_time - request["completed_at"])
            if item.finished_at is not None:
                samples.engine.append(item.finished_at.timestamp() - request["completed_at"])
                samples.page.append(badge_time - item.finished_at.timestamp())
            started = seen.get((item.node_id, "running"))
            if started is not None and request["started_at"] is not None:
                samples.running.append(started - request["started_at"])
    return samples


def _editor_load_ms(browser: Any, storage_state: Any, app_url: str, workflow_id: str, nodes: int) -> float:
    """Open the editor in a fresh context; return ms from navigation start until every node is in the DOM."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, storage_state=storage_state)
    try:
        page = context.new_page()
        page.goto(f"{app_url}/workflows/{workflow_id}", wait_until="commit")
        handle = page.wait_for_function(
            f"() => document.querySelectorAll('.react-flow__node .ff-node').length >= {nodes} && performance.now()",
            polling="raf", timeout=60_000,
        )
        return float(handle.json_value())
    finally:
        context.close()


def _measure(profile: Profile, workdir: Path, standin: StandinProcess, dom: FigureResult, editor: FigureResult) -> None:
    from playwright.sync_api import sync_playwright

    standin.use_timing(run_seconds=DOM_LATENCY_SECONDS, log_count=STANDIN_LOG_LINES)
    standin.reset()
    with ReflexApp(workdir, fal_url=standin.url, poll_interval=POLL_SECONDS) as app, sync_playwright() as playwright:
        store = RunStore(app.data_dir / "falflow.sqlite")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.set_default_timeout(60_000)
            page = context.new_page()
            email = _sign_up(page, app.url)
            storage_state = context.storage_state()
            with httpx.Client(base_url=app.url, timeout=60) as client:
                headers = _bearer(client, email)
                chain_id = _create(client, headers, "bench dom latency", fal_chain(DOM_CHAIN_NODES, seed=5))
                large = {count: _create(client, headers, f"bench editor {count}", grid_chain(count))
                         for count in profile.editor_node_counts}

            _open_editor(page, app.url, chain_id, DOM_CHAIN_NODES)
            samples = _dom_latencies(page, standin, store, profile.dom_runs, DOM_CHAIN_NODES)
            context.close()

            loads: dict[int, list[float]] = {}
            for count, workflow_id in large.items():
                _editor_load_ms(browser, storage_state, app.url, workflow_id, count)  # warm-up
                loads[count] = [_editor_load_ms(browser, storage_state, app.url, workflow_id, count)
                                for _ in range(profile.editor_repetitions)]
        finally:
            browser.close()

    _report_dom(dom, samples, profile)
    _report_editor(editor, loads)


def _report_dom(result: FigureResult, samples: DomSamples, profile: Profile) -> None:
    p95 = percentile(samples.succeeded, 0.95) * 1000

    def spread(values: list[float]) -> str:
        if not values:
            return "no sample"
        summary = Summary.of(values).describe("ms", scale=1000, digits=0)
        return f"{summary}; p95 {percentile(values, 0.95) * 1000:.0f} ms"

    result.metrics += [
        Metric.checked("stand-in completed → badge shows 'succeeded', p95", f"{p95:.0f} ms",
                       f"≤ {MAX_DOM_P95_MS:g} ms", p95 <= MAX_DOM_P95_MS),
        Metric("stand-in completed → badge shows 'succeeded', all samples", spread(samples.succeeded)),
        Metric("… of which stand-in completed → engine marks the item succeeded", spread(samples.engine)),
        Metric("… of which engine marks the item succeeded → badge shows it", spread(samples.page)),
        Metric("stand-in started → badge shows 'running'", spread(samples.running)),
        Metric("node items without a matched stand-in request or badge change", str(samples.missing)),
    ]
    result.method += [
        f"{profile.dom_runs} runs of a {DOM_CHAIN_NODES}-node chain (`{TEXT_TO_IMAGE}` then `{IMAGE_TO_IMAGE}`) "
        "started from the editor's 'Run, re-rolling cached nodes' menu item, with the editor open in Chromium "
        f"(1440×900). Stand-in: run {DOM_LATENCY_SECONDS:g} s, {STANDIN_LOG_LINES} log lines; engine poll "
        f"{POLL_SECONDS * 1000:g} ms.",
        "Latency = the first MutationObserver callback that sees the node's badge with the new `data-status`, "
        "minus the stand-in's `completed_at` (or `started_at`) of that node's request. 'succeeded' appears only "
        "after the engine has fetched the result, copied the output and charged the node, so that work is included.",
        "The app runs as `reflex run --env prod` from a copy of the project (UI, API and engine in one process).",
    ]


def _report_editor(result: FigureResult, loads: dict[int, list[float]]) -> None:
    for count, values in loads.items():
        summary = Summary.of(values)
        if count >= EDITOR_TARGET_NODES:
            result.metrics.append(Metric.checked(f"{count} nodes: navigation start → all nodes rendered",
                                                 summary.describe("ms", digits=0), f"≤ {MAX_EDITOR_LOAD_MS:g} ms",
                                                 summary.median <= MAX_EDITOR_LOAD_MS))
        else:
            result.metrics.append(Metric(f"{count} nodes: navigation start → all nodes rendered",
                                         summary.describe("ms", digits=0)))
    result.method += [
        "Each workflow is a chain (flux, then background removal nodes) laid out ten nodes to a row. Each "
        "repetition opens `/workflows/{id}` in a fresh, signed-in browser context (so no page state is reused, "
        "but the HTTP cache starts empty too) after one unmeasured warm-up load.",
        "Time = `performance.now()` (milliseconds since navigation start) at the first animation frame where "
        "every node's content element (`.react-flow__node .ff-node`) is in the DOM.",
    ]


def measure(profile: Profile, workdir: Path, standin: StandinProcess) -> list[FigureResult]:
    dom = FigureResult(key=DOM_KEY, title="Stand-in status change → browser DOM (Chromium)", baseline="—",
                       target=f"p95 ≤ {MAX_DOM_P95_MS:g} ms")
    sizes = " and ".join(str(count) for count in profile.editor_node_counts)
    editor = FigureResult(key=EDITOR_KEY, title=f"Editor load, {sizes} nodes (Chromium)", baseline="—",
                          target=f"≤ {MAX_EDITOR_LOAD_MS / 1000:g} s for {EDITOR_TARGET_NODES} nodes")
    started = time.perf_counter()
    try:
        _measure(profile, workdir, standin, dom, editor)
    except Exception as exc:  # The editor is still being built; a page that cannot be driven is reported, not fatal.
        logger.exception("bench.browser.failed")
        for result in (dom, editor):
            if not result.metrics:
                result.status = FigureStatus.NOT_MEASURED
                result.notes.append(f"Not measured: the harness failed with {type(exc).__name__}: {str(exc)[:500]}")
    dom.seconds = editor.seconds = time.perf_counter() - started
    return [dom, editor]
