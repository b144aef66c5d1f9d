"""`vtui download` against a hostile Hub mirror (support/hub_server.py: listing_edit, lies):
names, blob ids and commits that would leave the download folder, and file bodies that are
short, empty, oversize, compressed or answered 416 for ever. Each case is one entry of a
table; in every one vtui exits 1 with one line naming the file and why, writes nothing
outside its folder, and never reports the model ready."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.hub_server import BODY_LIES, TINY, FakeHub, hub_server, vtui, vtui_env
from tests.support.loopback import serve_on_loopback

SHARD = "model-00001-of-00002.safetensors"
SMALL = "tokenizer_config.json"


def _rename(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def edit(record: dict[str, Any]) -> None:
        for sibling in record["siblings"]:
            if sibling["rfilename"] == old:
                sibling["rfilename"] = new

    return edit


def _set(name: str, key: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(record: dict[str, Any]) -> None:
        for sibling in record["siblings"]:
            if sibling["rfilename"] == name:
                if key.startswith("lfs."):
                    sibling["lfs"][key[4:]] = value
                else:
                    sibling[key] = value

    return edit


def _commit(value: str) -> Callable[[dict[str, Any]], None]:
    def edit(record: dict[str, Any]) -> None:
        record["sha"] = value

    return edit


# The listing's lie, and what the refusal must quote.
LISTINGS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "dot-dot name": (_rename(SMALL, "../../escape.json"), "../../escape.json"),
    "absolute name": (_rename(SMALL, "/tmp/vtui-escape.json"), "/tmp/vtui-escape.json"),
    "backslash name": (_rename(SMALL, "..\\..\\escape.json"), "escape.json"),
    "NUL in a name": (_rename(SMALL, "tokenizer\x00.json"), "tokenizer"),
    "newline in a name": (_rename(SMALL, "tokenizer\n.json"), "tokenizer"),
    "dot-dot blob id": (_set(SMALL, "blobId", "../../../escape"), "../../../escape"),
    "dot-dot LFS sha": (_set(SHARD, "lfs.sha256", "../../../escape"), "../../../escape"),
    "short blob id": (_set(SMALL, "blobId", "abc"), "'abc'"),
    "no blob id": (_set(SMALL, "blobId", None), "None"),
    "dot-dot commit": (_commit("../../../escape"), "../../../escape"),
    "commit with a newline": (_commit("0123456789abcdef0123456789abcdef01234567\n"), "commit"),
    "size a string": (_set(SMALL, "size", "12"), "size"),
    "size negative": (_set(SMALL, "size", -1), "size"),
    "size beyond any disk": (_set(SHARD, "lfs.size", 10**18), "size"),
}


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with hub_server() as fake:
        yield fake


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def assert_nothing_escaped(home: Path, cache: Path) -> None:
    """Nothing outside the cache, and no `escape` anywhere: the test's folder held only
    the cache before the run."""
    outside = {p for p in files_under(home) if cache not in p.parents}
    assert outside == set(), outside
    assert not Path("/tmp/vtui-escape.json").exists()
    assert not [p for p in files_under(home) if "escape" in p.name]


@pytest.mark.attack("hub-traversal")
@pytest.mark.parametrize("case", sorted(LISTINGS))
def test_a_listing_that_would_leave_the_folder_is_refused(
    hub: FakeHub, tmp_path: Path, case: str
) -> None:
    edit, quoted = LISTINGS[case]
    hub.listing_edit = edit
    cache = tmp_path / "home" / "hub"
    done = vtui("download", TINY, env=vtui_env(hub, cache))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert quoted in line and "nothing was written" in line, line
    assert "ready" not in done.stdout
    assert_nothing_escaped(tmp_path / "home", cache)
    assert not [p for p in files_under(tmp_path) if p.suffix == ".safetensors"]


@pytest.mark.attack("hub-traversal")
def test_a_planted_link_in_the_cache_carries_no_write_out(hub: FakeHub, tmp_path: Path) -> None:
    """The repo's blobs folder is a link to elsewhere (planted by another user of a shared
    cache): vtui refuses to write through it."""
    cache = tmp_path / "home" / "hub"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    repo = cache / "models--vtui-test--tiny-model"
    repo.mkdir(parents=True)
    os.symlink(elsewhere, repo / "blobs")
    done = vtui("download", TINY, env=vtui_env(hub, cache))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "outside" in done.stderr and "Traceback" not in done.stderr
    assert list(elsewhere.iterdir()) == []


# Which word the one line of the error must hold for each lie.
LIE_WORDS = {
    "short": "not whole",
    "empty": "not whole",
    "oversize": "more than",
    "gzip": "encoded",
    "416-loop": "416",
}


def test_every_lie_has_its_words() -> None:
    assert set(LIE_WORDS) == set(BODY_LIES)


@pytest.mark.attack("download-whole")
@pytest.mark.parametrize("lie", sorted(LIE_WORDS))
@pytest.mark.parametrize("name", [SHARD, SMALL], ids=["lfs-file", "small-file"])
def test_a_file_that_does_not_arrive_whole_is_never_promoted(
    hub: FakeHub, tmp_path: Path, lie: str, name: str
) -> None:
    hub.lies[name] = lie
    cache = tmp_path / "hub"
    done = vtui("download", TINY, env=vtui_env(hub, cache))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert name in last and LIE_WORDS[lie] in last, last
    assert "ready" not in done.stdout
    # The file is nowhere in the snapshot, and no blob of its name holds the wrong bytes.
    snapshots = list(cache.glob("models--*/snapshots/*"))
    assert not any((s / name).exists() for s in snapshots)
    assert not list(cache.glob("models--*/refs/main"))
    # Whatever was kept for a resume is no longer than the file.
    for partial in cache.rglob("*.vtui-partial"):
        assert partial.stat().st_size <= len(hub.files[name])
    assert set(hub.accept_encodings) == {"identity"}


@pytest.mark.attack("deadlines")
def test_a_mirror_that_trickles_its_answer_cannot_hold_a_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time
    from http.server import BaseHTTPRequestHandler

    from vtui.backends.hub import hf, hub_calls
    from vtui.core.errors import BackendUnavailable
    from vtui.core.model_search import SearchQuery

    class Trickle(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = b'[{"id": "org/model", "downloads": 1}]' * 50
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            for byte in body:  # one byte every 0.2 s: each read is within any read timeout
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)

    monkeypatch.setattr(hub_calls, "HUB_DEADLINE_S", 2.0)
    with serve_on_loopback(Trickle) as server:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="no whole answer"):
            hf.HfHub(f"http://127.0.0.1:{server.server_address[1]}").search(SearchQuery("x"))
        assert time.monotonic() - started < 6
