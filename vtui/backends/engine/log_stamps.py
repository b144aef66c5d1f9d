"""Log lines stamped as Docker stamps them (`--timestamps`: RFC 3339 with nanoseconds, a
space, the text): how the Docker engine's stream reads and how vtui's process keeper
writes, so both runtimes hand on the same LogLine."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime

from vtui.core.log_buffer import held_line
from vtui.core.records import LogLine

# Docker's "never": a container that has not started or finished yet.
NEVER = "0001-01-01T00:00:00Z"


def stamp(now_ns: int) -> str:
    seconds, ns = divmod(now_ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{ns:09d}Z"


def parse_stamp(text: str) -> int | None:
    """RFC 3339 with nanoseconds, as the engine writes it, to ns since the epoch."""
    text = text.strip()
    if not text or text == NEVER or not text.endswith("Z"):
        return None
    base, _, fraction = text[:-1].partition(".")
    try:
        seconds = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
        nanos = int((fraction + "000000000")[:9]) if fraction else 0
    except ValueError:
        return None
    return seconds * 1_000_000_000 + nanos


def held_text(raw: bytes) -> str:
    """A log line as vtui holds it: cut to a bound, its control characters made visible."""
    return held_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def stamped_line(raw: bytes) -> LogLine:
    """`STAMP TEXT` to a LogLine (at 0 when the stamp does not read)."""
    at, _, text = raw.partition(b" ")
    return LogLine(parse_stamp(at.decode("ascii", "replace")) or 0, held_text(text))
