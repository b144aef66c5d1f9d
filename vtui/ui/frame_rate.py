"""How often the screen may redraw.

Textual redraws on a timer, at most MAX_FPS times a second (60 unless TEXTUAL_FPS says), and a
change waits for the timer's next tick. A key typed just after a frame began waited for that
frame, then up to a whole period for the next tick, then for its own frame. On the Chat
screen while a reply streamed at full speed (bench/chat.py's key test, a 2-core machine), keys
took p50 13-26 ms and p95 52-74 ms at 60 frames a second; p50 7 ms and p95 32 ms at 120.
240 was quicker still (p50 2 ms, p95 23 ms), but lets a screen that changes all the time
draw, and send over SSH, twice as many frames as 120 does. Frames are drawn only when
something changed, and a streaming reply paces its own drawing (ui/widgets/chat_reply.py),
so the higher ceiling costs nothing while the screen is still.
"""

from __future__ import annotations

import os

FRAMES_PER_SECOND = 120


def use_frame_rate() -> None:
    """Before Textual is imported (it reads the setting once, then): vtui's frame rate,
    unless the user chose one with TEXTUAL_FPS."""
    os.environ.setdefault("TEXTUAL_FPS", str(FRAMES_PER_SECOND))
