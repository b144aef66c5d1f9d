"""The calibration store: one JSON line per real vLLM start, in the state folder.

The file is the user's own and read as untrusted (core/calibration.py checks every
field): a line that does not parse is skipped with a warning, never fatal; only the file's
last MAX_BYTES are read, so a file grown without bound cannot stall an estimate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from vtui.backends.files.safe_paths import inside
from vtui.core.calibration import BadRecord, StartRecord, parse_line

FILE_NAME = "calibration.jsonl"
MAX_BYTES = 4 << 20


@dataclass(frozen=True)
class Learned:
    records: tuple[StartRecord, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


class CalibrationStore:
    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir
        self.path = state_dir / FILE_NAME

    def add(self, record: StartRecord) -> None:
        """Appends one line (0600); raises OSError when the folder cannot be written and
        UnsafeName when the file is a link planted to lead elsewhere."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        inside(self.root, self.path)
        line = (record.to_line() + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def read(self) -> Learned:
        """Every record that checks out, oldest first, and a warning per line that did not."""
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - MAX_BYTES))
                data = handle.read(MAX_BYTES)
        except FileNotFoundError:
            return Learned()
        except OSError as exc:
            return Learned(warnings=(f"{self.path}: cannot be read ({exc.strerror or exc})",))
        lines = data.decode("utf-8", "replace").splitlines()
        if size > MAX_BYTES and lines:
            lines = lines[1:]  # the first was cut in the middle
        records: list[StartRecord] = []
        warnings: list[str] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                records.append(parse_line(line))
            except BadRecord as exc:
                warnings.append(f"{self.path.name} line {number} skipped: {exc}")
        return Learned(tuple(records), tuple(warnings))
