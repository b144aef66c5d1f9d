"""pytest plugin: the hardening report (one line per promise in tests/hardening.py, with
how its tests ended) and the search for the planted Hub token after the run."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.hardening import KINDS, TITLES
from tests.support.leak_scan import PLANTED_TOKEN, SubprocessWatch, files_holding, files_under

REPO = Path(__file__).resolve().parent.parent
# Every test and every vtui it starts has the token where vtui looks for it.
os.environ["HF_TOKEN"] = PLANTED_TOKEN

_started = time.time()
_watch = SubprocessWatch(PLANTED_TOKEN)
_promises: dict[str, list[tuple[str, str]]] = {}  # nodeid -> [(kind, key)]
_outcomes: dict[str, str] = {}  # nodeid -> passed / failed / skipped
_leaks: list[str] = []
_scanned = 0


def pytest_configure(config: pytest.Config) -> None:
    for kind, title in TITLES.items():
        config.addinivalue_line("markers", f"{kind}(key): keeps a promise of {title} (#10)")


def pytest_sessionstart(session: pytest.Session) -> None:
    _watch.install()


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:  # after -k and -m have deselected
        kept = [(kind, str(m.args[0])) for kind in KINDS for m in item.iter_markers(kind)]
        if kept:
            _promises[item.nodeid] = kept


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, text in report.sections:
        if PLANTED_TOKEN in text:
            _leaks.append(f"{report.nodeid}: {name}")
    if PLANTED_TOKEN in report.longreprtext:
        _leaks.append(f"{report.nodeid}: failure report")
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped and report.nodeid not in _outcomes:
        _outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and report.passed:
        _outcomes.setdefault(report.nodeid, "passed")


def _scan_outputs(session: pytest.Session) -> None:
    global _scanned
    roots = [session.config._tmp_path_factory.getbasetemp()]  # type: ignore[attr-defined]
    roots += [REPO / "tests" / "__snapshots__", REPO / "screenshots"]
    roots += [p for p in Path("/tmp").glob("vtui-demo-*") if p.stat().st_mtime >= _started]
    files = list(files_under(roots, newer_than=_started - 1))
    report = REPO / "snapshot_report.html"
    if report.exists() and report.stat().st_mtime >= _started:
        files.append(report)
    _scanned = len(files)
    _leaks.extend(str(path) for path in files_holding(PLANTED_TOKEN, files))
    _leaks.extend(_watch.leaks)


def pytest_sessionfinish(session: pytest.Session) -> None:
    _watch.uninstall()
    _scan_outputs(session)
    if _leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _verdict(nodeids: list[str]) -> str:
    ends = [_outcomes.get(n, "not run") for n in nodeids]
    if "failed" in ends:
        return "FAIL"
    if "passed" in ends:
        return "pass"
    return "skipped" if "skipped" in ends else "not run"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _promises and not _leaks:
        return
    by_promise: dict[tuple[str, str], list[str]] = defaultdict(list)
    for nodeid, kept in _promises.items():
        for promise in kept:
            by_promise[promise].append(nodeid)
    write = terminalreporter.write_line
    terminalreporter.section("hardening report (issue #10)")
    absent = 0
    for kind, promises in KINDS.items():
        write(f"{TITLES[kind]}:")
        for key, title in promises.items():
            nodeids = by_promise.get((kind, key), [])
            if not nodeids and key != "hf-token-unseen":  # the search runs in every run
                absent += 1
                continue
            verdict = _verdict(nodeids)
            if key == "hf-token-unseen":  # the search after the run is its test too
                verdict = "FAIL" if _leaks else "pass" if verdict == "not run" else verdict
            ran = sum(_outcomes.get(n) == "passed" for n in nodeids)
            write(f"  {verdict:8} {key:22} {title} ({ran}/{len(nodeids)} tests passed)")
    if absent:
        write(f"{absent} promise(s) had no test in this run; the whole suite reports them all")
    write(
        f"Planted HF token searched in {_scanned} files and every captured and subprocess "
        f"output: {'FOUND in' if _leaks else 'not found'}"
    )
    for leak in _leaks:
        write(f"  token leaked: {leak}", red=True)
