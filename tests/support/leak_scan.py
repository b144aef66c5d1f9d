"""A Hub token planted for the whole test run, and the search for it in everything the run
left behind: files under pytest's temporary root, snapshots and screenshots, demo folders,
every test's captured output and every subprocess's output.

The token is in the environment of every test and every vtui it starts, so vtui reads it
wherever it reads HF_TOKEN (downloads, launches); finding it anywhere it was not sent is a
leak. tests/test_hardening.py shows the search finds a token where one is.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

PLANTED_TOKEN = "hf_vtuiPlanted" + secrets.token_hex(12)
SCAN_SIZE_LIMIT = 64 * 1024 * 1024  # bigger files are model shards made by the tests


def files_under(roots: Iterable[Path], newer_than: float = 0.0) -> Iterator[Path]:
    for root in roots:
        if not root.exists():
            continue
        for dirpath, _dirs, names in os.walk(root, followlinks=False):
            for name in names:
                path = Path(dirpath, name)
                try:
                    info = path.lstat()
                except OSError:
                    continue
                if (
                    path.is_file()
                    and not path.is_symlink()
                    and info.st_mtime >= newer_than
                    and info.st_size <= SCAN_SIZE_LIMIT
                ):
                    yield path


def files_holding(token: str, paths: Iterable[Path]) -> list[Path]:
    needle = token.encode()
    found = []
    for path in paths:
        try:
            if needle in path.read_bytes():
                found.append(path)
        except OSError:
            continue
    return found


class SubprocessWatch:
    """Wraps subprocess.run so whatever a test's subprocess printed is searched too."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.leaks: list[str] = []
        self._run = subprocess.run

    def install(self) -> None:
        original = self._run

        def run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
            done = original(*args, **kwargs)
            for stream in (done.stdout, done.stderr):
                text = stream.decode(errors="replace") if isinstance(stream, bytes) else stream
                if isinstance(text, str) and self.token in text:
                    self.leaks.append(f"output of {done.args!r}")
            return done

        subprocess.run = run  # type: ignore[assignment]

    def uninstall(self) -> None:
        subprocess.run = self._run
