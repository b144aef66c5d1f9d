"""Names for files vtui saves by time (load-test runs, logs, chats): two saves in the same
second must not land on one name, or the first is lost without a word."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

MAX_TRIES = 1000


def claim_new(folder: Path, stem: str, suffixes: Sequence[str] = (".json",)) -> list[Path]:
    """`folder/stem` (or `stem-2`, `stem-3`, ...) with every suffix claimed as a new, empty
    0600 file, O_EXCL so another vtui saving at the same moment cannot take it too. Returns
    the claimed paths, one per suffix in order, for the caller to write over. Raises
    OSError."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for n in range(1, MAX_TRIES + 1):
        base = folder / (stem if n == 1 else f"{stem}-{n}")
        claimed: list[Path] = []
        try:
            for suffix in suffixes:
                path = Path(f"{base}{suffix}")
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o600))
                claimed.append(path)
        except FileExistsError:
            for path in claimed:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            continue
        return claimed
    raise FileExistsError(f"{folder}: {MAX_TRIES} files named {stem}* exist already")
