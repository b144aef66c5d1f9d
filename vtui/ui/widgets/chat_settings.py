"""The chat's settings: which served model, the system prompt, and how to sample."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch

from vtui.core.chat import SamplingSettings, format_extra, parse_extra, sampling_value
from vtui.ui.widgets.quiet_input import QuietInput


@dataclass(frozen=True)
class ChatSettings:
    model: str
    system: str
    sampling: SamplingSettings
    stream: bool


class ChatSettingsScreen(ModalScreen[ChatSettings | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, current: ChatSettings, models: tuple[str, ...]) -> None:
        super().__init__()
        self.current = current
        self.models = models if current.model in models else (current.model, *models)

    def compose(self) -> ComposeResult:
        s = self.current.sampling
        with Vertical(classes="dialog", id="chat-settings"):
            yield Label("Chat settings", classes="title")
            yield Label("Model (as the server lists it in /v1/models)")
            yield Select(
                [(m, m) for m in self.models],
                value=self.current.model,
                allow_blank=False,
                id="settings-model",
            )
            yield Label("System prompt")
            yield QuietInput(self.current.system, placeholder="none", id="settings-system")
            with Horizontal(classes="settings-row"):
                yield _number("temperature", s.temperature, "server default")
                yield _number("top_p", s.top_p, "server default")
                yield _number("max_tokens", s.max_tokens, "up to the context")
            yield Label("Extra sampling parameters: top_k=20 repetition_penalty=1.05, or JSON")
            yield QuietInput(format_extra(s.extra), placeholder="none", id="settings-extra")
            with Horizontal(classes="settings-row"):
                yield Switch(self.current.stream, id="settings-stream")
                yield Label("Stream replies token by token")
            yield Static(id="settings-problem", classes="error")
            with Horizontal(classes="settings-row"):
                yield Button("Save", variant="primary", id="settings-save")
                yield Button("Cancel", id="settings-cancel")

    def on_mount(self) -> None:
        self.query_one("#settings-problem").display = False

    @on(Button.Pressed, "#settings-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        try:
            settings = self._read()
        except ValueError as exc:
            problem = self.query_one("#settings-problem", Static)
            problem.update(str(exc))
            problem.display = True
            return
        self.dismiss(settings)

    @on(Button.Pressed, "#settings-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _read(self) -> ChatSettings:
        temperature = _float(self, "temperature")
        top_p = _float(self, "top_p")
        raw_max = self.query_one("#settings-max_tokens", Input).value.strip()
        max_tokens: int | None = None
        if raw_max:
            if not raw_max.isdigit() or int(raw_max) < 1:
                raise ValueError("max_tokens: a whole number of tokens, 1 or more")
            max_tokens = int(raw_max)
        try:
            extra = parse_extra(self.query_one("#settings-extra", Input).value)
        except ValueError as exc:
            raise ValueError(f"Extra parameters: {exc}") from exc
        model = self.query_one("#settings-model", Select).value
        return ChatSettings(
            model=str(model) if isinstance(model, str) else self.current.model,
            system=self.query_one("#settings-system", Input).value,
            sampling=SamplingSettings(temperature, top_p, max_tokens, extra),
            stream=self.query_one("#settings-stream", Switch).value,
        )


def _number(name: str, value: float | None, placeholder: str) -> Vertical:
    return Vertical(
        Label(name),
        QuietInput(
            "" if value is None else str(value), placeholder=placeholder, id=f"settings-{name}"
        ),
        classes="settings-field",
    )


def _float(screen: ChatSettingsScreen, name: str) -> float | None:
    try:
        return sampling_value(name, screen.query_one(f"#settings-{name}", Input).value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
