"""The footer: the keys that work now, each whole (see core.key_bar for which give way)."""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Input, Static

from vtui.core.key_bar import GAP, KeyEntry, fit_keys


class KeyBar(Static):
    DEFAULT_CLASSES = "key-bar"

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.draw)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self) -> None:
        self.draw()

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.draw()

    def entries(self) -> tuple[list[KeyEntry], KeyEntry | None]:
        app = self.app
        out: list[KeyEntry] = []
        seen: set[str] = set()
        groups: dict[str, list[str]] = {}
        palette: KeyEntry | None = None
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.action == "command_palette" and app.ENABLE_COMMAND_PALETTE:
                palette = KeyEntry(app.get_key_display(binding), "palette", keep=True)
                continue
            # A key bound twice acts only where the focus is nearest: show that one.
            if not binding.show or not active.enabled or {binding.action, binding.key} & seen:
                continue
            seen |= {binding.action, binding.key}
            shown = app.get_key_display(binding)
            group = binding.group
            if group is not None:
                if group.description not in groups:
                    groups[group.description] = []
                    out.append(KeyEntry("", group.description, keep=True))
                groups[group.description].append(shown)
                continue
            out.append(KeyEntry(shown, binding.description, keep=active.node is app))
        joined = [
            KeyEntry("".join(groups[e.words]), e.words, keep=True) if not e.keys else e for e in out
        ]
        if isinstance(self.screen.focused, Input):
            # Typing: the keys that end or move on from the field come first, after Esc.
            after_esc = next((i + 1 for i, e in enumerate(joined) if e.keys == "esc"), 0)
            joined[after_esc:after_esc] = [KeyEntry("tab", "Next field"), KeyEntry("enter", "Done")]
        return joined, palette

    def draw(self) -> None:
        if not self.is_attached:
            return
        width = max(1, self.size.width - 1)  # the last cell is left free: no wrap, ever
        entries, palette = self.entries()
        chosen = fit_keys(entries, palette, width)
        right = chosen.pop() if chosen and palette and chosen[-1].keys == palette.keys else None
        text = Text(no_wrap=True, overflow="crop")
        for index, entry in enumerate(chosen):
            if index:
                text.append(" " * GAP)
            text.append(entry.keys, style="bold")
            text.append(" " + entry.words)
        if right is not None:
            text.append(" " * max(GAP if chosen else 0, width - len(text) - right.width))
            text.append(right.keys, style="bold")
            text.append(" " + right.words)
        self.update(text)
