"""What vtui's downloader prints when it runs on another host (in a helper container
there), and how vtui reads it back. One JSON object per line, so every line stands alone:
a line cut by the log bound, or noise from the image, is skipped, never half-believed.

The far side is as untrusted as the Hub: the plan it sends is checked with the same name,
id and size rules as a Hub listing, and every progress figure against that plan, before
a path is shown or a bar is drawn.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from vtui.core import safe_names
from vtui.core.downloads import DownloadPlan, Progress, RepoFile
from vtui.core.numbers import whole_number
from vtui.core.terminal_text import visible

MAX_FILES = 20_000
MAX_REASON = 600  # characters of the far side's own words kept


class WireProblem(ValueError):
    """What the far side sent is not a plan vtui will act on; says why."""


def dumps(obj: dict[str, Any]) -> str:
    """One line: ASCII only, so nothing in it is a control character."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"))


def plan_lines(plan: DownloadPlan) -> list[str]:
    """A plan as the far side prints it: a line per file, then the plan's own line."""
    lines = [
        dumps({"file": {"path": f.path, "size": f.size, "blob": f.blob, "have": f.have}})
        for f in plan.files
    ]
    lines += [dumps({"skip": path}) for path in plan.skipped[:MAX_FILES]]
    lines.append(dumps({"plan": {"repo": plan.repo_id, "commit": plan.commit}}))
    return lines


def progress_line(p: Progress) -> str:
    return dumps(
        {
            "progress": {
                "done": p.done_bytes,
                "total": p.total_bytes,
                "file": p.file,
                "file_done": p.file_done,
                "file_total": p.file_total,
                "rate": round(p.rate, 1),
            }
        }
    )


def _object(line: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and len(obj) == 1 else None


def reason(value: object) -> str:
    """The far side's own words, made harmless to show and bounded."""
    text = visible(str(value)).strip() or "no reason given"
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + "..."


class PlanReader:
    """Collects a plan from the far side's lines; `plan()` once its own line came."""

    def __init__(self, repo_id: str) -> None:
        self.repo_id = repo_id
        self.files: list[RepoFile] = []
        self.skipped: list[str] = []
        self.done: DownloadPlan | None = None
        self.error: str | None = None

    def feed(self, line: str) -> None:
        """Raises WireProblem for a line that breaks the rules (one bad entry refuses the
        whole plan, as for a Hub listing)."""
        obj = _object(line)
        if obj is None or self.done is not None:
            return
        try:
            if "file" in obj:
                self._file(obj["file"])
            elif "skip" in obj:
                if len(self.skipped) < MAX_FILES:
                    self.skipped.append(safe_names.repo_file(obj["skip"]))
            elif "plan" in obj:
                self._plan(obj["plan"])
            elif "error" in obj:
                self.error = reason(obj["error"])
        except safe_names.UnsafeName as exc:
            raise WireProblem(str(exc)) from None

    def _file(self, entry: object) -> None:
        if not isinstance(entry, dict):
            raise WireProblem("a file entry is not an object")
        if len(self.files) >= MAX_FILES:
            raise WireProblem(f"more than {MAX_FILES:,} files")
        path = safe_names.repo_file(entry.get("path"))
        if any(f.path == path for f in self.files):
            raise WireProblem(f"{path!r} is listed twice")
        size = safe_names.file_size(entry.get("size"), where=path)
        have = safe_names.file_size(entry.get("have"), where=path)
        if have > size:
            raise WireProblem(f"{path}: {have:,} bytes present of a {size:,}-byte file")
        blob = safe_names.blob_id(entry.get("blob"), where=path)
        self.files.append(RepoFile(path=path, size=size, blob=blob, have=have))

    def _plan(self, entry: object) -> None:
        if not isinstance(entry, dict):
            raise WireProblem("the plan line is not an object")
        repo = safe_names.repo_id(entry.get("repo"))
        if repo != self.repo_id:
            raise WireProblem(f"it planned {repo}, not {self.repo_id}")
        commit = safe_names.commit_sha(entry.get("commit"))
        if not self.files:
            raise WireProblem("it planned no files")
        self.done = DownloadPlan(repo, commit, tuple(self.files), tuple(self.skipped))


@dataclass(frozen=True)
class Finished:
    path: str  # where the files are, as the far side's container sees it


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Stopped:
    """The far side was cancelled: what came is kept there."""


@dataclass(frozen=True)
class Alive:
    """A heartbeat: the far side works, with nothing new to say."""


Event = Progress | Finished | Failed | Stopped | Alive


def _rate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    rate = float(value)
    return rate if math.isfinite(rate) and 0 <= rate < 1e13 else 0.0


def read_event(line: str, plan: DownloadPlan) -> Event | None:
    """The event a line of the far side's download says, checked against `plan`; None for
    a line that is not one (noise, a cut line, figures that break the plan)."""
    obj = _object(line)
    if obj is None:
        return None
    if "alive" in obj:
        return Alive()
    if "cancelled" in obj:
        return Stopped()
    if "error" in obj:
        return Failed(reason(obj["error"]))
    if "done" in obj:
        return Finished(str(obj["done"])) if isinstance(obj["done"], str) else None
    entry = obj.get("progress")
    if not isinstance(entry, dict):
        return None
    return _progress(entry, plan)


def _progress(entry: dict[str, Any], plan: DownloadPlan) -> Progress | None:
    done, total = entry.get("done"), entry.get("total")
    if not whole_number(done) or total != plan.total_bytes or not 0 <= done <= total:
        return None
    name = entry.get("file")
    f = next((f for f in plan.files if f.path == name), None)
    if f is None:
        return Progress(plan.repo_id, done, total, rate=_rate(entry.get("rate")))
    file_done = entry.get("file_done")
    if not whole_number(file_done) or not 0 <= file_done <= f.size:
        file_done = 0
    return Progress(plan.repo_id, done, total, f.path, file_done, f.size, _rate(entry.get("rate")))
