"""Which keys the footer shows in the width it has: whole entries only, never a word cut.
The screen's own keys come first and give way from the end; the screen keys, Quit and the
palette stay, and the palette's entry says "more" when something gave way."""

from __future__ import annotations

from dataclasses import dataclass

GAP = 2  # spaces between two entries


@dataclass(frozen=True)
class KeyEntry:
    keys: str  # as drawn: "^s", "12345", "esc"
    words: str
    keep: bool = False  # stays whatever the width (screen keys, Quit)

    @property
    def width(self) -> int:
        return len(self.keys) + 1 + len(self.words)


def fit_keys(entries: list[KeyEntry], palette: KeyEntry | None, width: int) -> list[KeyEntry]:
    """The entries to draw, in order, the palette's last; their width with gaps <= width."""

    def needed(chosen: list[KeyEntry]) -> int:
        return sum(e.width for e in chosen) + GAP * max(0, len(chosen) - 1)

    chosen = [*entries, *([palette] if palette else [])]
    if needed(chosen) <= width:
        return chosen
    more = KeyEntry(palette.keys, "more", keep=True) if palette else None
    shown = list(entries)
    while shown and needed([*shown, *([more] if more else [])]) > width:
        droppable = [i for i, e in enumerate(shown) if not e.keep]
        if not droppable:
            break
        del shown[droppable[-1]]
    if more is not None and len(shown) == len(entries):
        # Nothing gave way: only the palette's own word was too long.
        more = KeyEntry(more.keys, "cmds", keep=True)
    result = [*shown, *([more] if more else [])]
    while result and needed(result) > width:  # even the kept ones do not fit: cut whole
        result.pop(0)
    return result
