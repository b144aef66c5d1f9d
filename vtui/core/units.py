"""How figures are written on screen. N/A stands wherever a backend could not read a value."""

from __future__ import annotations

NOT_AVAILABLE = "N/A"


def human_bytes(n: float | None) -> str:
    if n is None:
        return NOT_AVAILABLE
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def mib_as_gib(mib: int | None) -> str:
    return NOT_AVAILABLE if mib is None else f"{mib / 1024:.1f} GiB"


def percent(value: int | float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:.0f}%"


def count(n: int | None) -> str:
    if n is None:
        return NOT_AVAILABLE
    for threshold, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if n >= threshold:
            return f"{n / threshold:.1f}{suffix}"
    return str(n)


def or_na(value: object, fmt: str = "{}") -> str:
    return NOT_AVAILABLE if value is None else fmt.format(value)


def plural(n: int, noun: str) -> str:
    """1 model, 2 models."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def shorten_front(name: str, width: int) -> str:
    """A repo id within width, losing its owner first, then the front of its name: the tail
    ("-Instruct-FP8") is what tells the variants apart."""
    if len(name) <= width:
        return name
    _owner, _, model = name.rpartition("/")
    if len(model) + 2 <= width:
        return f"\u2026/{model}"
    return "\u2026" + model[len(model) - width + 1 :]
