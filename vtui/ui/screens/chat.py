"""Chat: talk to the active deployment's endpoint, replies streaming in as they come."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from vtui.backends.endpoint import EndpointError
from vtui.core.records import ChatMessage, ChatUsage, ContainerState
from vtui.ui.screens.base import VtuiScreen


class ChatScreen(VtuiScreen):
    SCREEN_TITLE = "Chat"
    BINDINGS = [
        Binding("escape", "leave_input", "Leave input"),
        Binding("i", "type", "Type"),
        Binding("ctrl+l", "clear", "Clear chat"),
    ]

    class Piece(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Finished(Message):
        def __init__(self, usage: ChatUsage | None, error: str | None) -> None:
            super().__init__()
            self.usage, self.error = usage, error

    def __init__(self) -> None:
        super().__init__()
        self.history: list[ChatMessage] = []
        self._reply: Static | None = None
        self._reply_text = ""

    def compose_body(self) -> ComposeResult:
        yield Static(id="chat-status", classes="status")
        yield VerticalScroll(id="chat-log")
        yield Input(placeholder="Message the model, Enter to send", id="chat-input")

    def on_mount(self) -> None:
        self.watch(self.vtui, "deployments_seen", self._show_target, init=True)
        self.query_one(Input).focus()

    def _show_target(self, _seen: int) -> None:
        d = self.vtui.active_deployment
        status = self.query_one("#chat-status", Static)
        if d is None or d.state != ContainerState.RUNNING or d.base_url is None:
            status.update("No running server to talk to: launch one first (Server, 3).")
        else:
            status.update(f"Talking to {d.model} at {d.base_url}")

    @on(Input.Submitted, "#chat-input")
    def _send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        d = self.vtui.active_deployment
        if not text or self._reply is not None:
            return
        if d is None or d.state != ContainerState.RUNNING:
            self.notify("No running server to talk to.", severity="warning")
            return
        event.input.clear()
        self.history.append(ChatMessage("user", text))
        log = self.query_one("#chat-log", VerticalScroll)
        log.mount(Static(text, classes="chat-user"))
        self._reply = Static("\u2026", classes="chat-assistant")
        self._reply_text = ""
        log.mount(self._reply)
        log.scroll_end(animate=False)
        self.stream(d.model, list(self.history))

    @work(thread=True, exclusive=True, group="chat")
    def stream(self, model: str, history: list[ChatMessage]) -> None:
        d = self.vtui.active_deployment
        if d is None:
            return
        usage: ChatUsage | None = None
        try:
            for item in self.vtui.backends.endpoint_for(d).stream_chat(model, history):
                if isinstance(item, ChatUsage):
                    usage = item
                else:
                    self.post_message(self.Piece(item))
            self.post_message(self.Finished(usage, None))
        except EndpointError as exc:
            self.post_message(self.Finished(None, str(exc)))

    def on_chat_screen_piece(self, message: Piece) -> None:
        if self._reply is not None:
            self._reply_text += message.text
            self._reply.update(self._reply_text)
            self.query_one("#chat-log", VerticalScroll).scroll_end(animate=False)

    def on_chat_screen_finished(self, message: Finished) -> None:
        if self._reply is None:
            return
        if message.error:
            self._reply.update(f"Error: {message.error}")
            self._reply.add_class("error")
        else:
            self.history.append(ChatMessage("assistant", self._reply_text))
            if message.usage:
                self.query_one("#chat-log", VerticalScroll).mount(
                    Static(
                        f"{message.usage.prompt_tokens} prompt + "
                        f"{message.usage.completion_tokens} completion tokens",
                        classes="chat-usage",
                    )
                )
        self._reply = None

    def action_leave_input(self) -> None:
        # Digits type into the input; leaving it gives them back to the screen keys 1-5.
        self.query_one("#chat-log", VerticalScroll).focus()

    def action_type(self) -> None:
        self.query_one(Input).focus()

    def action_clear(self) -> None:
        self.history.clear()
        self.query_one("#chat-log", VerticalScroll).remove_children()
