"""Downloads on the host that serves, with real parts: `vtui download --host gpu-2` runs
vtui's downloader in a helper container on the second engine (reached over ssh), which
fetches from the loopback Hub on that host's network into that host's HF cache. The
second engine runs on this machine, so the test can look at the files it wrote."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.fleet import SECOND_SOCKET, SSH_PORT, Fleet, SpareSshd
from tests.support.helpers import REPO
from tests.support.hub_server import TINY, TINY_FILES, FakeHub, hub_server

pytestmark = pytest.mark.engine
NEEDED = {
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
    "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
    "model.safetensors.index.json",
}  # fmt: skip
SHARD = "model-00001-of-00002.safetensors"
TOKEN = "hf_remoteDownloadSecret123"
SECOND_ENV = {**os.environ, "DOCKER_HOST": f"unix://{SECOND_SOCKET}"}


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with hub_server() as fake:
        yield fake


class FarCache:
    """gpu-2's HF home, a folder of this machine's (the second engine runs here) that
    this machine's own HF home is not."""

    def __init__(self, fleet: Fleet, hub: FakeHub) -> None:
        self.fleet, self.hub = fleet, hub
        self.home = fleet.root / "gpu-2-hf"
        self.local_home = fleet.root / "hf"
        fleet.add("gpu-2", f"ssh://root@127.0.0.1:{SSH_PORT}", hf_home=str(self.home))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in self.fleet.env().items() if not k.startswith("HF_")}
        return {**env, "HF_ENDPOINT": self.hub.url, "HF_HOME": str(self.local_home),
                "HF_TOKEN": TOKEN}  # fmt: skip

    def vtui(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vtui", *args],
            capture_output=True, text=True, timeout=timeout, env=self.env(), cwd=REPO,
        )  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "vtui", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env(), cwd=REPO,
        )  # fmt: skip

    def snapshot(self) -> Path:
        [snap] = (self.home / "hub" / f"models--{TINY.replace('/', '--')}" / "snapshots").iterdir()
        return snap

    def partial_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.home.rglob("*.vtui-partial"))

    def wait_for_partial(self, at_least: int, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (have := self.partial_bytes()) >= at_least:
                return have
            time.sleep(0.1)
        raise AssertionError(f"no partial file of {at_least} bytes on gpu-2")


def helpers_on_second_engine() -> list[dict[str, object]]:
    listed = subprocess.run(
        ["docker", "ps", "-a", "--filter", "label=io.vtui.helper", "--format", "{{json .}}"],
        env=SECOND_ENV, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in listed.stdout.splitlines()]


@pytest.fixture
def far(fleet: Fleet, hub: FakeHub) -> Iterator[FarCache]:
    yield FarCache(fleet, hub)
    for helper in helpers_on_second_engine():
        subprocess.run(["docker", "rm", "-f", str(helper["ID"])], env=SECOND_ENV, check=False)


def test_a_download_for_a_host_lands_in_that_hosts_hf_cache(far: FarCache) -> None:
    done = far.vtui("download", TINY, "--host", "gpu-2")
    assert done.returncode == 0, done.stderr
    assert "7 files, 5.6 MB; skipping 3 vLLM does not read" in done.stdout
    assert "5.6 MB / 5.6 MB (100%) · done" in done.stdout
    snap = far.snapshot()
    assert f"ready on host gpu-2: {snap}" in done.stdout
    assert {str(p.relative_to(snap)) for p in snap.rglob("*") if p.is_file()} == NEEDED
    for name in NEEDED:
        assert (snap / name).read_bytes() == TINY_FILES[name]
    # The bytes went to the far host, never into this machine's own cache.
    assert not far.local_home.exists() or not list(far.local_home.rglob("*.safetensors"))
    # The far side fetched with the user's token, and the token was never shown.
    assert f"Bearer {TOKEN}" in far.hub.authorizations
    assert TOKEN not in done.stdout + done.stderr
    assert helpers_on_second_engine() == []  # the helper is gone once done
    # A second run finds it all there and moves no byte.
    sent = dict(far.hub.bytes_sent)
    again = far.vtui("download", TINY, "--host", "gpu-2")
    assert again.returncode == 0 and "(5.6 MB already on host gpu-2)" in again.stdout
    assert far.hub.bytes_sent == sent


def test_a_dropped_transfer_on_the_far_side_resumes_there(far: FarCache) -> None:
    far.hub.cut_after[SHARD] = 1_000_000
    done = far.vtui("download", TINY, "--host", "gpu-2")
    assert done.returncode == 0, done.stderr
    assert (far.snapshot() / SHARD).read_bytes() == TINY_FILES[SHARD]
    ranges = [r for f, r in far.hub.ranges if f == SHARD]
    assert ranges[0] is None and ranges[-1] == "bytes=1000000-"


@pytest.mark.fault("ctrl-c-remote-download")
def test_ctrl_c_stops_the_far_download_and_a_rerun_resumes_it(far: FarCache) -> None:
    far.hub.bytes_per_second = 400_000
    process = far.start("download", TINY, "--host", "gpu-2")
    try:
        far.wait_for_partial(300_000)
        # The token reaches the helper as a file, never as its environment.
        [helper] = helpers_on_second_engine()
        env = subprocess.run(
            ["docker", "inspect", "--format", "{{json .Config.Env}}", str(helper["ID"])],
            env=SECOND_ENV, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert TOKEN not in env and "HF_TOKEN_PATH=" in env
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "rerun the same command to resume" in err
    assert helpers_on_second_engine() == []  # stopped and removed on the far side
    kept = far.partial_bytes()
    assert kept >= 300_000
    far.hub.bytes_per_second = None
    again = far.vtui("download", TINY, "--host", "gpu-2")
    assert again.returncode == 0, again.stderr
    assert (far.snapshot() / SHARD).read_bytes() == TINY_FILES[SHARD]
    resumed = [r for f, r in far.hub.ranges if f == SHARD][-1]
    assert resumed is not None and int(resumed[6:-1]) >= 300_000


@pytest.mark.fault("remote-download-link-lost")
def test_a_lost_link_leaves_the_download_going_and_a_rerun_follows_it(
    far: FarCache, spare_sshd: Callable[[str], SpareSshd]
) -> None:
    sshd = spare_sshd(f"unix://{SECOND_SOCKET}")
    far.fleet.add("flaky", f"ssh://root@127.0.0.1:{sshd.port}", hf_home=str(far.home))
    far.hub.bytes_per_second = 1_500_000
    process = far.start("download", TINY, "--host", "flaky")
    try:
        far.wait_for_partial(200_000)
        sshd.cut()
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1
    assert "lost host flaky mid-download" in err and "goes on there" in err
    assert len(helpers_on_second_engine()) == 1  # still downloading on the far side
    # Through the working sshd, the same download is found and followed to its end.
    again = far.vtui("download", TINY, "--host", "gpu-2")
    assert again.returncode == 0, again.stderr
    assert (far.snapshot() / SHARD).read_bytes() == TINY_FILES[SHARD]
    assert helpers_on_second_engine() == []


def test_a_host_path_that_cannot_be_mounted_is_refused_before_anything_runs(
    far: FarCache,
) -> None:
    done = far.vtui("download", TINY, "--host", "gpu-2", "--local-dir", "relative/dir")
    assert done.returncode == 1
    assert "host gpu-2: 'relative/dir' must be an absolute path on that host" in done.stderr
    assert helpers_on_second_engine() == []
    unknown = far.vtui("download", TINY, "--host", "gpu-9")
    assert unknown.returncode == 2 and "no host called 'gpu-9'; known: local, gpu-2" in (
        unknown.stderr
    )


def test_the_fit_for_a_host_reads_that_hosts_gpus(far: FarCache) -> None:
    done = far.vtui("estimate", "Qwen/Qwen3-8B", "--host", "gpu-2", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    # The recorded H200 that the second host's nvidia-smi reports; this machine has none.
    assert answer["gpu_source"] == "read by nvidia-smi on gpu-2: 1 x NVIDIA H200"
    assert answer["fits"] is True
    here = far.vtui("estimate", "Qwen/Qwen3-8B")
    assert here.returncode == 1 and "no GPU to read" in here.stderr
