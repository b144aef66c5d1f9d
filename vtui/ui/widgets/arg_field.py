"""One field of the Launch form: a label, the right input for its kind, and its problem below."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static

from vtui.core.launch_form import READ_ONLY, FormField
from vtui.core.vllm_args import FLAG
from vtui.ui.widgets.quiet_input import QuietInput

DEFAULT_CHOICE = ""  # the Select value meaning "leave it to vLLM"


class ArgField(Vertical):
    class Edited(Message):
        def __init__(self, key: str, text: str) -> None:
            super().__init__()
            self.key, self.text = key, text

    class Focused(Message):
        def __init__(self, field: FormField) -> None:
            super().__init__()
            self.field = field

    def __init__(self, field: FormField, text: str) -> None:
        super().__init__(classes="arg-field", id="field-" + field.key.lstrip("-"))
        self.field = field
        self._text = text

    def compose(self) -> ComposeResult:
        with Horizontal(classes="arg-row"):
            yield Label(self.field.label, classes="arg-label")
            yield self._input()
        yield Static(classes="arg-problem")

    def _input(self) -> Input | Select[str]:
        arg = self.field.arg
        if arg is not None and (arg.kind == FLAG or arg.choices):
            values = ["on", "off"] if arg.kind == FLAG else list(arg.choices or ())
            default = self.field.placeholder or "vLLM decides"
            options = [(f"({default})", DEFAULT_CHOICE), *((v, v) for v in values)]
            value = self._text if self._text in values else DEFAULT_CHOICE
            return Select(options, value=value, allow_blank=False, compact=True)
        suggester = (
            SuggestFromList(arg.suggested, case_sensitive=False)
            if (arg is not None and arg.suggested)
            else None
        )
        return QuietInput(
            self._text,
            placeholder=self.field.placeholder,
            compact=True,
            suggester=suggester,
            disabled=self.field.key in READ_ONLY,
        )

    def set_text(self, text: str) -> None:
        """Fill the field as if typed: the usual Edited message follows."""
        widget = self.query_one(".arg-row > Input, .arg-row > Select")
        if isinstance(widget, (Input, Select)):
            widget.value = text

    def show_problem(self, message: str | None, *, warning: bool = False) -> None:
        problem = self.query_one(".arg-problem", Static)
        problem.update(message or "")
        problem.display = bool(message)
        self.set_class(bool(message) and not warning, "-error")
        self.set_class(bool(message) and warning, "-warning")

    def on_mount(self) -> None:
        self.query_one(".arg-problem", Static).display = False

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Edited(self.field.key, event.value))

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value if isinstance(event.value, str) else DEFAULT_CHOICE
        self.post_message(self.Edited(self.field.key, value))

    def on_descendant_focus(self) -> None:
        self.post_message(self.Focused(self.field))
