"""Numbers read from outside (JSON, TOML, a listing): Python counts True and False as ints,
so a field that must hold a whole number is checked here, once, with bool left out."""

from __future__ import annotations

from typing import TypeGuard


def whole_number(value: object) -> TypeGuard[int]:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)
