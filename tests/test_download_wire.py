"""What a remote host's downloader sends back is as untrusted as a Hub listing: a plan
that names a path out of the cache, figures that break the plan, escape sequences in its
words. Each is refused or made harmless before vtui acts on it or shows it."""

from __future__ import annotations

import json

import pytest

from vtui.backends.hub.remote_download import _Place
from vtui.core import download_wire as wire
from vtui.core.downloads import Destination, DownloadPlan, Progress, RepoFile
from vtui.core.errors import DownloadError

SHA = "a" * 64
PLAN = DownloadPlan(
    "org/model",
    "0123456789abcdef0123456789abcdef01234567",
    (
        RepoFile("config.json", 1_000, "b" * 40, have=1_000),
        RepoFile("model.safetensors", 9_000, SHA, have=4_000),
    ),
    ("original/consolidated.pth",),
)


def read_plan(lines: list[str], repo: str = "org/model") -> DownloadPlan | None:
    reader = wire.PlanReader(repo)
    for line in lines:
        reader.feed(line)
    return reader.done


def file_line(**entry: object) -> str:
    base: dict[str, object] = {"path": "config.json", "size": 10, "blob": "b" * 40, "have": 0}
    return json.dumps({"file": {**base, **entry}})


PLAN_LINE = json.dumps({"plan": {"repo": "org/model", "commit": "0" * 40}})


def test_a_plan_crosses_the_wire_whole() -> None:
    lines = wire.plan_lines(PLAN)
    assert all("\n" not in line and line.isascii() for line in lines)
    assert read_plan(["noise from the image", *lines]) == PLAN


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({"path": "../../.bashrc"}, "../../.bashrc"),
        ({"path": "/etc/cron.d/x"}, "/etc/cron.d/x"),
        ({"blob": "../../../etc/passwd"}, "blob id"),
        ({"size": -1}, "is not a byte count"),
        ({"size": 1 << 60}, "is not a byte count"),
        ({"size": "10"}, "is not a byte count"),
        ({"have": 11}, "11 bytes present of a 10-byte file"),
    ],
)
def test_a_hostile_plan_entry_refuses_the_whole_plan(entry: dict[str, object], why: str) -> None:
    with pytest.raises(wire.WireProblem, match=why.replace(".", r"\.")):
        read_plan([file_line(**entry), PLAN_LINE])


def test_a_plan_for_another_repo_or_of_no_files_is_refused() -> None:
    with pytest.raises(wire.WireProblem, match="it planned org/model, not org/other"):
        read_plan([file_line(), PLAN_LINE], repo="org/other")
    with pytest.raises(wire.WireProblem, match="planned no files"):
        read_plan([PLAN_LINE])
    with pytest.raises(wire.WireProblem, match="listed twice"):
        read_plan([file_line(), file_line(), PLAN_LINE])


def test_progress_is_believed_only_within_the_plan() -> None:
    good = wire.read_event(
        wire.progress_line(Progress("x", 6_000, 10_000, "model.safetensors", 5_000, 9_000, 2.5)),
        PLAN,
    )
    assert good == Progress("org/model", 6_000, 10_000, "model.safetensors", 5_000, 9_000, 2.5)

    def progress(**entry: object) -> object:
        base = {"done": 6_000, "total": 10_000, "file": "model.safetensors", "file_done": 1,
                "file_total": 9_000, "rate": 1.0}  # fmt: skip
        return wire.read_event(json.dumps({"progress": {**base, **entry}}), PLAN)

    assert progress(done=10_001) is None  # past the end
    assert progress(total=99_999) is None  # another plan's total: a bar drawn wrong
    assert progress(done=True) is None
    stray = progress(file="../../etc/passwd")
    assert isinstance(stray, Progress) and stray.file == ""  # no name the plan lacks
    assert progress(file_done=10**12) == Progress(
        "org/model", 6_000, 10_000, "model.safetensors", 0, 9_000, 1.0
    )
    for rate in ("nan", float("inf"), -5, "fast"):
        event = progress(rate=rate) if rate != "nan" else progress(rate=float("nan"))
        assert isinstance(event, Progress) and event.rate == 0.0


def test_the_far_sides_words_are_shown_not_obeyed_and_bounded() -> None:
    event = wire.read_event(json.dumps({"error": "\x1b]0;owned\x07bad\x1b[2J" + "x" * 5000}), PLAN)
    assert isinstance(event, wire.Failed)
    assert "\x1b" not in event.reason and "\x07" not in event.reason
    assert len(event.reason) <= wire.MAX_REASON + 3
    assert wire.read_event('{"done": 5}', PLAN) is None
    assert wire.read_event('{"done": "/vtui-hf/hub/x", "extra": 1}', PLAN) is None
    assert wire.read_event("[1, 2]", PLAN) is None


def test_the_path_the_far_side_names_must_lie_in_the_mount() -> None:
    place = _Place(Destination(), "/srv/hf", "gpu-2")
    assert place.args == ("--cache-dir", "/vtui-hf/hub")
    assert place.on_host("/vtui-hf/hub/models--a--b/snapshots/c") == (
        "/srv/hf/hub/models--a--b/snapshots/c"
    )
    assert place.on_host("/vtui-hf/../etc") is None
    assert place.on_host("/vtui-hfx/hub") is None
    assert place.on_host("/etc/passwd") is None
    local = _Place(Destination(local_dir="/data/m/"), "/srv/hf", "gpu-2")
    assert local.on_host("/vtui-dest") == "/data/m"
    for bad in ("relative", "/a:/b", "/a/../b", "/a\nb"):
        with pytest.raises(DownloadError, match="gpu-2"):
            _Place(Destination(local_dir=bad), "/srv/hf", "gpu-2")
