"""Downloading a model as a user does, from the loopback Hub: what is fetched, the progress,
a dropped connection, a killed process, Ctrl-C, gated and unknown repos, a full disk,
offline mode. The Hub speaks the HTTP huggingface_hub uses (tests/support/hub_server.py)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub_server import GATED, TINY, TINY_FILES, FakeHub, hub_server, vtui, vtui_env
from vtui.core.downloads import (
    DownloadPlan,
    Progress,
    RepoFile,
    disk_problem,
    needed_files,
)
from vtui.core.units import human_bytes

SHARDS = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
NEEDED = {name for name in TINY_FILES if name not in
          ("pytorch_model.bin", "original/consolidated.00.pth", "README.md")}  # fmt: skip


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with hub_server() as fake:
        yield fake


def snapshot(cache: Path) -> Path:
    refs = cache / "models--vtui-test--tiny-model" / "refs" / "main"
    return cache / "models--vtui-test--tiny-model" / "snapshots" / refs.read_text()


# ---- what is fetched ---------------------------------------------------------------------


def test_only_what_vllm_reads_is_chosen() -> None:
    needed, skipped = needed_files(sorted(TINY_FILES))
    assert set(needed) == NEEDED
    assert set(skipped) == {"pytorch_model.bin", "original/consolidated.00.pth", "README.md"}
    # A repo with only PyTorch weights: vLLM loads those, so they are fetched.
    needed, _ = needed_files(["config.json", "pytorch_model.bin", "tokenizer.json"])
    assert "pytorch_model.bin" in needed


def test_a_disk_too_small_is_refused_with_the_numbers() -> None:
    plan = DownloadPlan("org/m", "c" * 40, (RepoFile("w.safetensors", 16_000_000_000, "b"),))
    problem = disk_problem(plan, free_bytes=10_000_000_000, where="/data")
    assert problem and "16.0 GB" in problem and "10.0 GB free" in problem and "/data" in problem
    assert disk_problem(plan, free_bytes=40_000_000_000, where="/data") is None


def test_progress_reads_as_done_total_rate_and_eta() -> None:
    p = Progress("org/m", 3_200_000_000, 16_400_000_000, "model-00002.safetensors",
                 rate=85_000_000)  # fmt: skip
    assert p.line() == ("3.2 GB / 16.4 GB (20%) · 85.0 MB/s · ETA 2m35s · model-00002.safetensors")
    assert human_bytes(999) == "999 B"


# ---- the whole download ------------------------------------------------------------------


def test_a_download_fills_the_hf_cache_as_hf_does(hub: FakeHub, tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    done = vtui("download", TINY, env=vtui_env(hub, cache))
    assert done.returncode == 0, done.stderr
    assert "7 files, 5.6 MB; skipping 3 vLLM does not read" in done.stdout
    assert "5.6 MB / 5.6 MB (100%) · done" in done.stdout
    files = snapshot(cache)
    assert {str(p.relative_to(files)) for p in files.rglob("*") if p.is_file()} == NEEDED
    for name in NEEDED:
        assert (files / name).read_bytes() == TINY_FILES[name]
    # Nothing vLLM does not read crossed the wire.
    assert not {"pytorch_model.bin", "original/consolidated.00.pth"} & set(hub.bytes_sent)
    # huggingface_hub's own cache scanner (what `hf cache scan` shows) sees a clean repo.
    listed = json.loads(vtui("models", "--json", env=vtui_env(hub, cache)).stdout)
    assert [(m["name"], m["size_bytes"], m["where"]) for m in listed] == [
        (TINY, sum(len(TINY_FILES[n]) for n in NEEDED), "HF cache")
    ]


def test_a_second_run_fetches_nothing(hub: FakeHub, tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    assert vtui("download", TINY, env=vtui_env(hub, cache)).returncode == 0
    sent = dict(hub.bytes_sent)
    again = vtui("download", TINY, env=vtui_env(hub, cache))
    assert again.returncode == 0 and "(5.6 MB already here)" in again.stdout
    assert hub.bytes_sent == sent


def test_a_local_dir_gets_plain_files(hub: FakeHub, tmp_path: Path) -> None:
    target = tmp_path / "models" / "tiny"
    done = vtui("download", TINY, "--local-dir", str(target), env=vtui_env(hub, tmp_path / "c"))
    assert done.returncode == 0, done.stderr
    assert (target / SHARDS[0]).read_bytes() == TINY_FILES[SHARDS[0]]
    assert not (target / ".vtui-download").exists()
    env = vtui_env(hub, tmp_path / "c")
    listed = json.loads(vtui("models", "--json", "--dir", str(tmp_path / "models"), env=env).stdout)
    assert [(m["name"], m["path"]) for m in listed] == [("tiny", str(target))]


# ---- stopping and resuming ---------------------------------------------------------------


@pytest.mark.fault("download-resume")
def test_a_dropped_connection_resumes_without_refetching(hub: FakeHub, tmp_path: Path) -> None:
    hub.cut_after[SHARDS[0]] = 1_000_000
    cache = tmp_path / "hub"
    done = vtui("download", TINY, env=vtui_env(hub, cache))
    assert done.returncode == 0, done.stderr
    assert (snapshot(cache) / SHARDS[0]).read_bytes() == TINY_FILES[SHARDS[0]]
    assert [r for f, r in hub.ranges if f == SHARDS[0]] == [None, "bytes=1000000-"]
    assert hub.bytes_sent[SHARDS[0]] == len(TINY_FILES[SHARDS[0]])


@pytest.mark.fault("download-resume")
def test_a_damaged_file_is_caught_by_its_checksum_and_fetched_again(
    hub: FakeHub, tmp_path: Path
) -> None:
    # One LFS shard (checked by sha256) and one small file (by git's blob sha1) arrive
    # with a byte flipped; each run stops at one, deletes it, and the third run is whole.
    hub.damaged_at[SHARDS[1]] = 1_500_000
    hub.damaged_at["tokenizer_config.json"] = 3
    cache = tmp_path / "hub"
    failures = []
    for _ in range(2):
        done = vtui("download", TINY, env=vtui_env(hub, cache))
        assert done.returncode == 1 and "Traceback" not in done.stderr
        failures.append(done.stderr)
    assert any(f"{SHARDS[1]} arrived damaged: its sha256 does not match" in f for f in failures)
    assert any("tokenizer_config.json arrived damaged: its git-sha1" in f for f in failures)
    assert all("rerun to fetch it again" in f for f in failures)
    done = vtui("download", TINY, env=vtui_env(hub, cache))
    assert done.returncode == 0, done.stderr
    for name in NEEDED:
        assert (snapshot(cache) / name).read_bytes() == TINY_FILES[name]


def _partial_bytes(cache: Path) -> int:
    """Bytes in the partial files now. A small file may be verified and renamed between
    being listed and being measured: it is then no partial any more, and counts nothing."""
    total = 0
    for partial in cache.rglob("*.vtui-partial"):
        with contextlib.suppress(FileNotFoundError):
            total += partial.stat().st_size
    return total


def _start_slow_download(hub: FakeHub, cache: Path) -> subprocess.Popen[str]:
    hub.bytes_per_second = 2_000_000
    return subprocess.Popen(
        [sys.executable, "-m", "vtui", "download", TINY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=vtui_env(hub, cache),
    )  # fmt: skip


def _wait_for_partial(cache: Path, at_least: int) -> int:
    deadline = time.monotonic() + 30
    while _partial_bytes(cache) < at_least:
        assert time.monotonic() < deadline, "the download never got going"
        time.sleep(0.05)
    return _partial_bytes(cache)


@pytest.mark.fault("download-resume")
def test_a_killed_download_continues_where_it_stopped(hub: FakeHub, tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    process = _start_slow_download(hub, cache)
    kept = _wait_for_partial(cache, 600_000)
    process.kill()  # a crash, or the SSH session taking the process with it
    process.wait(timeout=10)
    hub.bytes_per_second = None
    again = vtui("download", TINY, env=vtui_env(hub, cache))
    assert again.returncode == 0, again.stderr
    assert (snapshot(cache) / SHARDS[0]).read_bytes() == TINY_FILES[SHARDS[0]]
    resumed_at = [r for f, r in hub.ranges if f == SHARDS[0]][-1]
    assert resumed_at is not None and int(resumed_at[6:-1]) >= kept
    assert not list(cache.rglob("*.vtui-partial"))


@pytest.mark.fault("ctrl-c-download")
def test_ctrl_c_stops_keeps_what_came_and_says_how_to_resume(hub: FakeHub, tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    process = _start_slow_download(hub, cache)
    _wait_for_partial(cache, 300_000)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 130
    assert "rerun the same command to resume" in err
    assert _partial_bytes(cache) >= 300_000


# ---- refusals ----------------------------------------------------------------------------


@pytest.mark.fault("hub-gated")
@pytest.mark.security("hf-token-unseen")
def test_a_gated_repo_says_what_to_do_and_never_shows_the_token(
    hub: FakeHub, tmp_path: Path
) -> None:
    secret = "hf_ThisIsNotARealTokenButStillSecret"
    done = vtui("download", GATED, env=vtui_env(hub, tmp_path / "hub", HF_TOKEN=secret))
    assert done.returncode == 1
    assert "gated" in done.stderr and "hf auth login" in done.stderr
    assert "Traceback" not in done.stderr
    assert secret not in done.stdout + done.stderr


def test_an_unknown_repo_is_named(hub: FakeHub, tmp_path: Path) -> None:
    done = vtui("download", "nobody/nothing", env=vtui_env(hub, tmp_path / "hub"))
    assert done.returncode == 1
    assert "nobody/nothing: no such model on the Hub" in done.stderr


def test_offline_mode_refuses_downloads_but_lists_local_models(
    hub: FakeHub, tmp_path: Path
) -> None:
    cache = tmp_path / "hub"
    assert vtui("download", TINY, env=vtui_env(hub, cache)).returncode == 0
    offline = vtui_env(hub, cache, HF_HUB_OFFLINE="1")
    done = vtui("download", TINY, env=offline)
    assert done.returncode == 1 and "HF_HUB_OFFLINE" in done.stderr
    assert TINY in vtui("models", env=offline).stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
@pytest.mark.fault("disk-full")
def test_a_full_disk_is_refused_before_the_first_byte(hub: FakeHub, tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)])
    if mounted.returncode != 0:
        pytest.skip("this container may not mount a tmpfs")
    try:
        done = vtui("download", TINY, env=vtui_env(hub, small / "hub"))
        assert done.returncode == 1
        assert "needs 5.6 MB more" in done.stderr and "free" in done.stderr
        assert not hub.bytes_sent  # refused before the first byte
    finally:
        subprocess.run(["umount", str(small)])


@pytest.mark.fault("disk-full")
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_disk_that_fills_mid_download_keeps_what_came_and_resumes(
    hub: FakeHub, tmp_path: Path
) -> None:
    small = tmp_path / "small"
    small.mkdir()
    # Room for the download and the 1 GiB vtui keeps spare, so it starts; then it fills.
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1040m", "tmpfs", str(small)]).returncode:
        pytest.skip("this container may not mount a tmpfs")
    cache = small / "hub"
    try:
        download = _start_slow_download(hub, cache)
        _wait_for_partial(cache, 1_000_000)
        filler = small / "someone-elses-file"
        with filler.open("wb") as out, contextlib.suppress(OSError):
            # Another program takes the rest of the disk.
            os.posix_fallocate(out.fileno(), 0, shutil.disk_usage(small).free - 65536)
            while True:
                out.write(b"\0" * 4096)
                out.flush()
        _out, err = download.communicate(timeout=60)
        assert download.returncode == 1 and "Traceback" not in err
        assert "the disk filled up while writing" in err and "rerun to resume" in err
        kept = _partial_bytes(cache)
        assert kept >= 1_000_000  # what came before the disk filled is still there

        filler.unlink()
        hub.bytes_per_second = None
        done = vtui("download", TINY, env=vtui_env(hub, cache))
        assert done.returncode == 0, done.stderr
        for name in NEEDED:
            assert (snapshot(cache) / name).read_bytes() == TINY_FILES[name]
        interrupted = [f for f, r in hub.ranges if r and r != "bytes=0-"]
        assert interrupted, "the second run asked for the rest, not the whole file"
        refetched = sum(hub.bytes_sent.values()) - sum(len(TINY_FILES[n]) for n in NEEDED)
        print(f"bytes fetched twice: {refetched}")
        assert refetched <= 512 * 1024  # at most what was in flight when the write failed
    finally:
        subprocess.run(["umount", str(small)])


def test_search_lists_models_from_the_hub(hub: FakeHub, tmp_path: Path) -> None:
    done = vtui("search", "qwen3", "--json", env=vtui_env(hub, tmp_path / "hub"))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found and all("qwen3" in m["repo_id"].lower() for m in found)
    table = vtui("search", "qwen3", env=vtui_env(hub, tmp_path / "hub")).stdout
    assert table.splitlines()[0].startswith("MODEL") and "Qwen/Qwen3-8B" in table


def test_delete_removes_a_cached_repo_as_hf_cache_delete_does(hub: FakeHub, tmp_path: Path) -> None:
    from vtui.backends.files.model_inventory import delete_local, local_models

    cache = tmp_path / "hub"
    assert vtui("download", TINY, env=vtui_env(hub, cache)).returncode == 0
    (model,) = local_models(cache_dir=cache)
    delete_local(model, cache_dir=cache)
    assert local_models(cache_dir=cache) == []
    assert not list((cache / "models--vtui-test--tiny-model").rglob("*.safetensors"))


def test_delete_refuses_a_directory_that_is_not_a_model(tmp_path: Path) -> None:
    from vtui.backends.files.model_inventory import delete_local
    from vtui.core.downloads import LocalModel
    from vtui.core.errors import DownloadError

    precious = tmp_path / "models" / "photos"
    precious.mkdir(parents=True)
    (precious / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(DownloadError, match="does not look like a model directory"):
        delete_local(LocalModel("photos", str(precious), str(tmp_path / "models"), 4, "", None))
    assert (precious / "cat.jpg").exists()
