"""Downloads what vLLM needs of a model repo, resumably, where `hf` and vLLM look for it.

huggingface_hub (2.x) deletes a partial file when a download stops and never continues
one across runs, so vtui fetches the bytes itself: huggingface_hub still resolves the
revision, lists the files with their sizes and blob ids, builds the URLs and the auth
headers (the token stays inside it), and vtui streams each file with HTTP Range requests
into a partial file of a stable name that the next run continues. Files land in the
shared HF cache layout (models--ORG--NAME/blobs, snapshots/COMMIT, refs/REVISION), which
`hf`, `scan_cache_dir` and the vLLM container's mount read, or in a plain directory.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from vtui.backends.files.safe_paths import inside
from vtui.backends.hub.hub_calls import hub_offline, hub_problem, within_deadline
from vtui.core import safe_names
from vtui.core.downloads import (
    Destination,
    DownloadPlan,
    Progress,
    RateMeter,
    RepoFile,
    disk_problem,
    needed_files,
    weights_problem,
)
from vtui.core.errors import BackendUnavailable, Cancelled, DownloadError
from vtui.core.units import human_bytes

PARTIAL_SUFFIX = ".vtui-partial"
REPORT_EVERY_S = 0.1
RETRIES = 5  # a dropped connection is resumed this many times before giving up
# A transfer that brings fewer than STALL_BYTES in STALL_SECONDS has stalled: it is dropped
# and resumed, so a server trickling a byte at a time cannot hold a download for ever.
STALL_SECONDS = 60.0
STALL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Target:
    """Where a repo's files go: the HF cache (shared with `hf` and vLLM) or a directory."""

    cache_dir: Path | None = None
    local_dir: Path | None = None

    @staticmethod
    def default_cache() -> Path:
        """The HF cache as the environment names it now (huggingface_hub reads it once, at
        import): HF_HUB_CACHE, else HF_HOME/hub."""
        from vtui.locations import hf_hub_cache

        return hf_hub_cache()

    def base(self) -> Path:
        return self.local_dir or self.cache_dir or self.default_cache()

    def _repo_dir(self, repo_id: str) -> Path:
        return self.base() / ("models--" + safe_names.repo_id(repo_id).replace("/", "--"))

    def root(self, repo_id: str) -> Path:
        """The folder every file of this repo's download lies under."""
        return self.local_dir if self.local_dir is not None else self._repo_dir(repo_id)

    def final_path(self, repo_id: str, f: RepoFile) -> Path:
        if self.local_dir is not None:
            path = self.local_dir / safe_names.repo_file(f.path)
        else:
            path = self._repo_dir(repo_id) / "blobs" / safe_names.blob_id(f.blob, where=f.path)
        return inside(self.root(repo_id), path)

    def partial_path(self, repo_id: str, f: RepoFile) -> Path:
        if self.local_dir is not None:
            name = safe_names.repo_file(f.path) + PARTIAL_SUFFIX
            path = self.local_dir / ".vtui-download" / name
        else:
            blob = safe_names.blob_id(f.blob, where=f.path)
            path = self._repo_dir(repo_id) / "blobs" / (blob + PARTIAL_SUFFIX)
        return inside(self.root(repo_id), path)

    def is_complete(self, repo_id: str, f: RepoFile) -> bool:
        """The file is in place at its announced size (it was checked before it was put
        there, by vtui or by `hf`)."""
        final = self.final_path(repo_id, f)
        return final.is_file() and final.stat().st_size == f.size

    def bytes_present(self, repo_id: str, f: RepoFile) -> int:
        if self.is_complete(repo_id, f):
            return f.size
        partial = self.partial_path(repo_id, f)
        return min(f.size, partial.stat().st_size) if partial.is_file() else 0

    def finish_file(self, repo_id: str, commit: str, f: RepoFile) -> None:
        """Puts a verified file in place: only a partial file that _fetch checked whole, or
        a file already complete, is ever promoted."""
        root = self.root(repo_id)
        final = self.final_path(repo_id, f)
        partial = self.partial_path(repo_id, f)
        if not self.is_complete(repo_id, f):
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, inside(root, final))
        if self.local_dir is None:
            snapshot = self._repo_dir(repo_id) / "snapshots" / safe_names.commit_sha(commit)
            link = inside(root, snapshot / safe_names.repo_file(f.path))
            link.parent.mkdir(parents=True, exist_ok=True)
            inside(root, link)  # again: a folder on the way may have been a planted link
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(os.path.relpath(final, link.parent))

    def finish_repo(self, plan: DownloadPlan, revision: str) -> Path:
        if self.local_dir is not None:
            shutil.rmtree(self.local_dir / ".vtui-download", ignore_errors=True)
            return self.local_dir
        root = self.root(plan.repo_id)
        refs = inside(root, root / "refs" / safe_names.revision(revision))
        refs.parent.mkdir(parents=True, exist_ok=True)
        refs.write_text(plan.commit)
        return root / "snapshots" / safe_names.commit_sha(plan.commit)


def _hub_failure(repo_id: str, exc: Exception) -> DownloadError:
    return DownloadError(hub_problem(repo_id, exc))


def target_of(where: Destination) -> Target:
    return Target(
        cache_dir=Path(where.cache_dir) if where.cache_dir else None,
        local_dir=Path(where.local_dir) if where.local_dir else None,
    )


def plan_download(
    repo_id: str,
    *,
    revision: str = "main",
    target: Target | None = None,
    endpoint: str | None = None,
) -> DownloadPlan:
    """The files vLLM needs, their sizes, and how much of each is already on disk."""
    if hub_offline():
        raise DownloadError("HF_HUB_OFFLINE is set: vtui can list local models but not download")
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint)
    try:
        info = within_deadline(
            endpoint or api.endpoint,
            repo_id,
            lambda: api.model_info(repo_id, revision=revision, files_metadata=True),
        )
    except BackendUnavailable as exc:
        raise DownloadError(exc.reason) from None
    except Exception as exc:
        raise _hub_failure(repo_id, exc) from exc
    try:
        return _plan_from(repo_id, revision, info, target or Target())
    except safe_names.UnsafeName as exc:
        raise DownloadError(
            f"{repo_id}: refused the Hub's listing, nothing was written: {exc}"
        ) from None


def _plan_from(repo_id: str, revision: str, info: Any, where: Target) -> DownloadPlan:
    """The plan, once every name, id and size the listing gives is checked: one bad entry
    refuses the repo (raises UnsafeName) before any path is built."""
    safe_names.repo_id(repo_id)
    safe_names.revision(revision)
    commit = safe_names.commit_sha(getattr(info, "sha", None))
    siblings = {safe_names.repo_file(s.rfilename): s for s in info.siblings or []}
    needed, skipped = needed_files(sorted(siblings))
    problem = weights_problem(repo_id, needed, sorted(siblings))
    if problem:
        raise DownloadError(problem)
    files = []
    for path in needed:
        sibling = siblings[path]
        lfs = getattr(sibling, "lfs", None)
        blob = lfs.sha256 if lfs is not None else sibling.blob_id
        size = lfs.size if lfs is not None else sibling.size
        f = RepoFile(
            path=path,
            size=safe_names.file_size(size, where=path),
            blob=safe_names.blob_id(blob, where=path),
        )
        files.append(replace(f, have=where.bytes_present(repo_id, f)))
    return DownloadPlan(repo_id, commit, tuple(files), tuple(skipped))


def check_disk(plan: DownloadPlan, target: Target) -> None:
    base = target.base()
    probe = base
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    problem = disk_problem(plan, shutil.disk_usage(probe).free, str(base))
    if problem:
        raise DownloadError(problem)


class _Run:
    """One download's bookkeeping: bytes done, the rate, when it last reported."""

    def __init__(
        self, plan: DownloadPlan, on_progress: Callable[[Progress], None], cancel: threading.Event
    ) -> None:
        self.plan = plan
        self.on_progress = on_progress
        self.cancel = cancel
        self.done = plan.total_bytes - plan.missing_bytes
        self.meter = RateMeter()
        self.last_report = 0.0

    def report(self, f: RepoFile, file_done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_report < REPORT_EVERY_S:
            return
        self.last_report = now
        rate = self.meter.update(now, self.done)
        self.on_progress(
            Progress(
                self.plan.repo_id, self.done, self.plan.total_bytes, f.path, file_done, f.size, rate
            )
        )


class _Digest:
    """The running hash of one file's bytes, checked against the Hub's blob id at the end."""

    def __init__(self, f: RepoFile, partial: Path | None) -> None:
        self.kind = f.digest_kind
        self.expected = f.blob
        self.hash = hashlib.sha256() if self.kind == "sha256" else hashlib.sha1()
        if self.kind == "git-sha1":
            self.hash.update(b"blob %d\0" % f.size)
        if self.kind and partial and partial.exists():  # bytes kept from before count too
            with partial.open("rb") as kept:
                while block := kept.read(1 << 20):
                    self.hash.update(block)

    def update(self, chunk: bytes) -> None:
        if self.kind:
            self.hash.update(chunk)

    def matches(self) -> bool:
        return self.kind is None or self.hash.hexdigest() == self.expected


class _Stalled(Exception):
    """A transfer that stopped bringing bytes at a useful pace; dropped and resumed."""


class _Refused(Exception):
    """An answer no retry will mend (a compressed body, more bytes than announced)."""


def _fetch(
    client: Any, url: str, headers: dict[str, str], partial: Path, f: RepoFile, run: _Run
) -> None:
    """Appends the rest of one file to its partial file, resuming after dropped connections,
    and checks the whole file against the Hub's size and checksum. Returns only when the
    partial file is whole and verified; raises DownloadError otherwise, keeping what came."""
    import httpx

    partial.parent.mkdir(parents=True, exist_ok=True)
    why = "the Hub sent nothing"
    for attempt in range(RETRIES + 1):
        have = partial.stat().st_size if partial.exists() else 0
        if have >= f.size:
            return _verify(partial, f, _Digest(f, partial), run)
        ranged = {**headers, "Range": f"bytes={have}-"} if have else headers
        try:
            with client.stream("GET", url, headers=ranged) as response:
                if response.status_code == 416 and have:  # stale partial longer than the file
                    partial.unlink()
                    run.done -= have
                    why = "the Hub refused to resume it (HTTP 416)"
                    continue
                if response.status_code >= 400:
                    response.read()
                    raise httpx.HTTPStatusError("", request=response.request, response=response)
                encoding = response.headers.get("content-encoding", "identity").lower()
                if encoding not in ("", "identity"):
                    raise _Refused(
                        f"the Hub sent it {encoding}-encoded, which vtui did not ask for"
                    )
                mode = "ab"
                if have and response.status_code == 200:  # the server ignored Range
                    run.done -= have
                    have, mode = 0, "wb"
                digest = _Digest(f, partial if mode == "ab" else None)
                with partial.open(mode) as out:
                    _copy(response.iter_raw(), out, f, have, run, digest)
            got = partial.stat().st_size
            if got >= f.size:
                return _verify(partial, f, digest, run)
            why = f"the Hub ended the transfer at {got:,} of its {f.size:,} bytes"
        except (httpx.TransportError, httpx.RemoteProtocolError, _Stalled) as exc:
            why = (
                str(exc)
                if isinstance(exc, _Stalled)
                else f"the connection dropped ({type(exc).__name__})"
            )
            if attempt < RETRIES:
                time.sleep(min(8.0, 0.5 * 2**attempt))
        except _Refused as exc:
            raise DownloadError(f"{f.path}: {exc}; stopped. Nothing of it was promoted.") from None
        except OSError as exc:
            # The write that fails may be the last flush, on closing: catch it here.
            if exc.errno != errno.ENOSPC:
                raise
            kept = partial.stat().st_size if partial.exists() else 0
            raise DownloadError(
                f"the disk filled up while writing {f.path} ({human_bytes(kept)} of it is "
                f"kept in {partial.parent}): free some space and rerun to resume"
            ) from None
    kept = partial.stat().st_size if partial.exists() else 0
    raise DownloadError(
        f"{f.path} is not whole after {RETRIES + 1} tries: {why}. "
        f"{human_bytes(kept)} of it is kept: rerun to resume"
    )


def _verify(partial: Path, f: RepoFile, digest: _Digest, run: _Run) -> None:
    got = partial.stat().st_size
    if got == f.size and digest.matches():
        return
    # Resuming from these bytes would only keep the damage: start the file afresh.
    run.done -= got
    partial.unlink()
    what = (
        f"its size is {got:,} bytes, not the {f.size:,} the Hub announced"
        if got != f.size
        else f"its {digest.kind} does not match the Hub's ({f.blob[:12]}...)"
    )
    raise DownloadError(
        f"{f.path} arrived damaged: {what}. It was deleted; rerun to fetch it again."
    )


def _copy(chunks: Any, out: IO[bytes], f: RepoFile, have: int, run: _Run, digest: _Digest) -> None:
    """Writes chunks as they arrive (not buffered into big ones), so a dropped connection
    loses nothing that already came; never past the size the Hub announced."""
    file_done = have
    window_start, window_bytes = time.monotonic(), 0
    for chunk in chunks:
        if run.cancel.is_set():
            out.flush()
            raise Cancelled()
        room = f.size - file_done
        if len(chunk) > room:
            out.write(chunk[:room])
            out.flush()
            raise _Refused(f"the Hub sent more than the {f.size:,} bytes it announced")
        out.write(chunk)
        digest.update(chunk)
        file_done += len(chunk)
        run.done += len(chunk)
        run.report(f, file_done)
        window_bytes += len(chunk)
        now = time.monotonic()
        if now - window_start >= STALL_SECONDS:
            if window_bytes < STALL_BYTES:
                raise _Stalled(
                    f"the transfer stalled ({window_bytes:,} bytes in {now - window_start:.0f} s)"
                )
            window_start, window_bytes = now, 0


def run_download(
    plan: DownloadPlan,
    *,
    revision: str = "main",
    target: Target | None = None,
    endpoint: str | None = None,
    on_progress: Callable[[Progress], None] = lambda _p: None,
    cancel: threading.Event | None = None,
) -> Path:
    """Fetches what is missing, in order; returns the directory vLLM can load.

    Raises DownloadError (with its fix) or Cancelled; either way partial files stay."""
    import httpx
    from huggingface_hub import hf_hub_url

    # Public, but exported lazily, which mypy cannot see.
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    where = target or Target()
    check_disk(plan, where)
    run = _Run(plan, on_progress, cancel or threading.Event())
    # The token rides in these, never printed or logged; the bytes must come as they are
    # stored, so that their size and checksum are the Hub's.
    headers = {**build_hf_headers(), "Accept-Encoding": "identity"}
    timeout = httpx.Timeout(60.0, connect=10.0)
    with httpx.Client(follow_redirects=True, timeout=timeout) as client:
        for f in plan.files:
            if not where.is_complete(plan.repo_id, f):
                url = hf_hub_url(plan.repo_id, f.path, revision=plan.commit, endpoint=endpoint)
                try:
                    _fetch(client, url, headers, where.partial_path(plan.repo_id, f), f, run)
                except httpx.HTTPStatusError as exc:
                    raise _hub_failure(plan.repo_id, exc) from None
            where.finish_file(plan.repo_id, plan.commit, f)
            run.report(f, f.size, force=True)
    path = where.finish_repo(plan, revision)
    on_progress(
        Progress(
            plan.repo_id, plan.total_bytes, plan.total_bytes, rate=run.meter.rate, finished=True
        )
    )
    return path
