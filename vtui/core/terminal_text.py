"""The one sanitiser for text from outside (a container's log, a model's reply, a Hub listing,
an endpoint's error) before it is drawn or printed.

A terminal obeys the control characters it is sent: ESC starts sequences that retitle the
window (OSC 0/2), write the clipboard (OSC 52), clear the screen or move the cursor (CSI),
and C1 controls (U+0080-U+009F) are the same sequences in one character. So every such
character becomes a visible picture of itself (ESC reads `␛`, BEL `␇`, U+009B `<9B>`),
which keeps the text readable and makes an attack plain to see, never obeyed. Unicode's
bidirectional overrides are shown the same way: they reorder what the eye reads.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls, and the bidi embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_WITH_NEWLINES = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A colour or style change (SGR): the one sequence a log may carry that means no harm.
SGR = re.compile(r"\x1b\[[0-9;:]*m")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ ... ␟, ␛ for ESC
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<{code:02X}>" if code <= 0xFF else f"<U+{code:04X}>"


def visible(text: str, *, newlines: bool = False, tabs: bool = True) -> str:
    """`text` with every control character shown, not obeyed. Newlines are kept only where
    the caller means several lines (`newlines=True`); a tab is kept unless `tabs=False`,
    where it becomes spaces (a view that draws segments cannot let the terminal expand it)."""
    if not tabs:
        text = text.expandtabs(4)
    pattern = _UNSAFE if newlines else _UNSAFE_WITH_NEWLINES
    return pattern.sub(_picture, text.replace("\r\n", "\n"))


def log_text(text: str) -> str:
    """One line of a container's log as vtui holds it: colour codes dropped (vtui colours by
    level itself), every other control shown, tabs as spaces."""
    return visible(SGR.sub("", text), tabs=False)
