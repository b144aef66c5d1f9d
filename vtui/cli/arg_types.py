"""argparse types shared by vtui's commands: a bad value stops the command before it
touches anything, and argparse's message ("argument --timeout: ...") names the option."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def number(
    low: float, high: float = float("inf"), *, what: str = "a number", low_open: bool = False
) -> Callable[[str], float]:
    def read(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, not {text!r}") from None
        if value != value or value < low or value > high or (low_open and value == low):
            above = "above" if low_open else "at least"
            upto = f" and at most {high:g}" if high != float("inf") else ""
            raise argparse.ArgumentTypeError(f"must be {above} {low:g}{upto}, not {text}")
        return value

    return read


def whole(low: int) -> Callable[[str], int]:
    def read(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {text}")
        return value

    return read


def port(text: str) -> int:
    value = whole(1)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {text}")
    return value


def repo_id(text: str) -> str:
    from vtui.core.safe_names import REPO_ID

    if not REPO_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected a repo id such as owner/name, not {text!r}")
    return text


positive_int = whole(1)
count = whole(0)  # 0 allowed: "none" or "all", as the option's help says
seconds = number(0, what="seconds", low_open=True)


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def new_file(text: str) -> Path:
    """A file vtui will write, making its folder where needed: what exists of the folder's
    path must be folders."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory; name a file in it")
    found = _nearest_existing(path.parent)
    if not found.is_dir():
        raise argparse.ArgumentTypeError(f"{found} is not a directory")
    return path


def directory_to_fill(text: str) -> Path:
    """A directory vtui may create: where it does not exist yet, what does exist of its
    path must be a directory."""
    path = Path(text).expanduser()
    found = _nearest_existing(path)
    if not found.is_dir():
        raise argparse.ArgumentTypeError(f"{found} is not a directory")
    return path


def existing_directory(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such directory")
    return path


def sampling(name: str) -> Callable[[str], float]:
    def read(text: str) -> float:
        from vtui.core.chat import sampling_value

        try:
            value = sampling_value(name, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if value is None:
            raise argparse.ArgumentTypeError("give a number, or leave the option out")
        return value

    return read
