"""Parse the --size option: WIDTHxHEIGHT in terminal cells."""

from __future__ import annotations

import re

MIN_WIDTH, MIN_HEIGHT = 40, 12
MAX_CELLS = 1000
_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """Return (width, height) or raise ValueError with a message fit for the user."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"--size must look like 120x40 (columns x rows), not {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if not (MIN_WIDTH <= width <= MAX_CELLS and MIN_HEIGHT <= height <= MAX_CELLS):
        raise ValueError(
            f"--size {width}x{height} is out of range: columns {MIN_WIDTH}-{MAX_CELLS}, "
            f"rows {MIN_HEIGHT}-{MAX_CELLS}"
        )
    return width, height
