"""Writing YAML scalars that can never become anything but the string they hold.

Every string is double-quoted, and everything YAML could read as structure or as a
line break is escaped, so a value with quotes, colons, '#', '{}', newlines or odd
Unicode stays one string. Compose also interpolates '$' in values: `compose_value`
doubles it, so a '$' in a user's value reaches the container as a '$'.
"""

from __future__ import annotations

_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def _printable(code: int) -> bool:
    # YAML's printable set, less the characters YAML 1.1 reads as line breaks (NEL, LS, PS)
    # and the byte-order mark, which a reader may drop.
    return (
        0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or 0x10000 <= code <= 0x10FFFF
    ) and code not in (0x2028, 0x2029)


def quoted(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif _printable(code):
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def compose_value(text: str) -> str:
    """A literal value for a Compose file: '$' doubled against interpolation, then quoted."""
    return quoted(text.replace("$", "$$"))


def compose_unescape(text: str) -> str:
    """What Compose makes of a value without interpolation variables ('$$' becomes '$')."""
    return text.replace("$$", "$")
