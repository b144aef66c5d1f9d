"""How a secret is shown on screen: enough to tell two keys apart, never enough to use one."""

from __future__ import annotations

SHOWN_TAIL = 4
MIN_LENGTH_TO_SHOW_TAIL = 16  # a short secret keeps its tail hidden too


def masked(secret: str) -> str:
    tail = secret[-SHOWN_TAIL:] if len(secret) >= MIN_LENGTH_TO_SHOW_TAIL else ""
    return "\u2022" * 8 + tail
