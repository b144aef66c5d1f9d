"""Chat: talk to the chosen deployment (or --endpoint), replies streaming in as Markdown,
with their reasoning, their speed, and what went wrong in words."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import Worker

from vtui.backends.endpoint import ChatEndpoint, EndpointError, ServedModel
from vtui.backends.registry import endpoint_at
from vtui.core.chat import ChatTurn, Conversation
from vtui.core.chat_errors import ChatTarget, Explained
from vtui.core.chat_stream import ReplyRecorder
from vtui.core.records import ContainerState
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.chat_reply import ReplyView
from vtui.ui.widgets.chat_settings import ChatSettings, ChatSettingsScreen
from vtui.ui.widgets.long_markdown import near_view
from vtui.ui.widgets.quiet_input import QuietInput

NO_TARGET = "No server to talk to: launch one (2, Launch) or start vtui chat --endpoint URL."


class ChatScreen(VtuiScreen):
    SCREEN_TITLE = "Chat"
    MAIN_WIDGET = "#chat-log"
    BINDINGS = [
        # Esc stops a reply while one streams, else hands the keys 1-5 back from the input.
        Binding("escape", "stop", "Stop"),
        Binding("escape", "leave_input", "Leave input"),
        Binding("i", "type", "Type", show=False),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+o", "settings", "Settings"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+y", "copy_reply", "Copy reply"),
    ]

    class ReplyEnded(Message):
        def __init__(
            self,
            view: ReplyView,
            recorder: ReplyRecorder,
            problem: Explained | None,
            stopped: bool,
        ) -> None:
            super().__init__()
            self.view, self.recorder, self.problem = view, recorder, problem
            self.stopped = stopped

    class ModelsRead(Message):
        def __init__(self, url: str, cards: list[ServedModel], error: str | None) -> None:
            super().__init__()
            self.url, self.cards, self.error = url, cards, error

    def __init__(self) -> None:
        super().__init__()
        self.conversation = Conversation()
        self.model: str | None = None  # chosen in settings; else the target's own
        self.stream_replies = True
        self.served: tuple[ServedModel, ...] = ()
        self.models_error: str | None = None
        self._models_url: str | None = None
        self._endpoint: tuple[str, ChatEndpoint] | None = None
        self._worker: Worker[None] | None = None
        # Replies are followed down as they grow, until the user scrolls up to read.
        self._following = True
        self._refold_asked = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="chat-status", classes="status")
        yield VerticalScroll(id="chat-log")
        yield QuietInput(placeholder="Message the model, Enter to send", id="chat-input")

    def unfinished(self) -> str | None:
        turns = len(self.conversation.turns)
        if turns <= self._saved_turns:
            return None
        return f"the chat's {turns} turns are not saved (Ctrl+S saves them)"

    def on_mount(self) -> None:
        self._saved_turns = 0
        self.vtui.unfinished_work.append(self.unfinished)
        self.watch(self.vtui, "deployments_seen", self._target_changed, init=True)
        log = self.query_one("#chat-log", VerticalScroll)
        self.watch(log, "scroll_y", self._scrolled, init=False)
        self.query_one(Input).focus()

    # -- long conversations --------------------------------------------------------------------

    def _scrolled(self, before: float, now: float) -> None:
        # Up, by the user, stops following; back at the bottom follows again. A reply
        # growing below leaves the position as it was, and following as it was.
        at_bottom = now >= self.query_one("#chat-log", VerticalScroll).max_scroll_y - 1
        if at_bottom or now < before:
            self._following = at_bottom
        self._refold_after_refresh()

    def on_resize(self, _event: events.Resize) -> None:
        self._refold_after_refresh()

    def _refold_after_refresh(self) -> None:
        # A frame brings both a Grew and a scroll: one pass after it is enough.
        if not self._refold_asked:
            self._refold_asked = True
            self.call_after_refresh(self._refold)

    def _replies(self) -> list[ReplyView]:
        return [
            view for view in self.query_one("#chat-log").children if isinstance(view, ReplyView)
        ]

    @property
    def last_reply_drawn(self) -> bool:
        """The last reply is on screen to its end, its figures line under it."""
        replies = self._replies()
        return bool(replies) and replies[-1].ended

    async def _refold(self) -> None:
        """Fold the replies' finished parts that are far from view (layout and the garbage
        collector then skip their blocks), draw again the ones coming near."""
        self._refold_asked = False
        near = near_view(self.query_one("#chat-log", VerticalScroll), self._following)
        settled = [await view.refold(near) for view in self._replies()]
        if not all(settled):
            self._refold_after_refresh()

    @property
    def streaming(self) -> bool:
        return self._worker is not None and not self._worker.is_finished

    # -- what the chat talks to ----------------------------------------------------------------

    def _url(self) -> str | None:
        given = self.vtui.given_endpoint
        if given is not None:
            return given.url
        d = self.vtui.active_deployment
        return d.base_url if d is not None else None

    def _target_model(self) -> str | None:
        given = self.vtui.given_endpoint
        if self.model:
            return self.model
        if given is not None:
            return given.model or (self.served[0].id if self.served else None)
        d = self.vtui.active_deployment
        if d is None:
            return None
        served = [m.id for m in self.served]
        return d.model if not served or d.model in served else served[0]

    def target(self) -> ChatTarget | None:
        url, model = self._url(), self._target_model()
        if url is None or model is None:
            return None
        limit = next((m.max_model_len for m in self.served if m.id == model), None)
        given = self.vtui.given_endpoint
        if given is not None:
            return ChatTarget(
                url,
                model,
                max_model_len=limit,
                served_models=tuple(m.id for m in self.served),
                api_key_source=given.key_source,
            )
        d = self.vtui.active_deployment
        return ChatTarget(
            url,
            model,
            container_state=str(d.state) if d is not None else None,
            exit_code=d.exit_code if d is not None else None,
            max_model_len=limit,
            served_models=tuple(m.id for m in self.served),
        )

    def endpoint(self) -> ChatEndpoint | None:
        url = self._url()
        if url is None:
            return None
        if self._endpoint is None or self._endpoint[0] != url:
            given = self.vtui.given_endpoint
            if given is not None:
                made = endpoint_at(given.url, given.api_key)
            else:
                d = self.vtui.active_deployment
                assert d is not None
                made = self.vtui.backends.endpoint_for(d)
            self._endpoint = (url, made)
        return self._endpoint[1]

    def _target_changed(self, _seen: int = 0) -> None:
        url = self._url()
        d = self.vtui.active_deployment
        up = self.vtui.given_endpoint is not None or (
            d is not None and d.state == ContainerState.RUNNING
        )
        if url is not None and up and (url != self._models_url or self.models_error):
            self._models_url = url
            endpoint = self.endpoint()
            if endpoint is not None:
                self.read_models(url, endpoint)
        self._show_status()

    @work(thread=True, exclusive=True, group="chat-models")
    def read_models(self, url: str, endpoint: ChatEndpoint) -> None:
        try:
            self.post_message(self.ModelsRead(url, endpoint.model_cards(), None))
        except EndpointError as exc:
            self.post_message(self.ModelsRead(url, [], str(exc)))

    def on_chat_screen_models_read(self, message: ModelsRead) -> None:
        if message.url != self._url():
            return
        self.served = tuple(message.cards)
        self.models_error = message.error
        self._show_status()

    def _show_status(self) -> None:
        status = self.query_one("#chat-status", Static)
        target = self.target()
        if target is None:
            status.update(NO_TARGET)
            return
        parts = [f"{target.model} at {target.url}"]
        if target.container_state and target.container_state != ContainerState.RUNNING:
            parts.append(f"container {target.container_state}")
        if target.max_model_len:
            parts.append(f"context {target.max_model_len:,}")
        parts.append(f"sampling: {self.conversation.settings.summary()}")
        if not self.stream_replies:
            parts.append("not streamed")
        status.update(Text(" \u00b7 ".join(parts)))

    # -- sending and streaming -----------------------------------------------------------------

    @on(Input.Submitted, "#chat-input")
    async def _send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.streaming:
            self.notify("A reply is still coming: wait for it, or stop it with Esc.")
            return
        if self.target() is None:
            self.notify(NO_TARGET, severity="warning")
            return
        event.input.clear()
        self.conversation.turns.append(ChatTurn("user", text))
        log = self.query_one("#chat-log", VerticalScroll)
        await log.mount(Static(Text(text), classes="chat-user"))
        await self._start_reply()
        self._following = True
        log.call_after_refresh(log.scroll_end, animate=False)

    async def _start_reply(self) -> None:
        target, endpoint = self.target(), self.endpoint()
        if target is None or endpoint is None:
            return
        view = ReplyView(self.vtui.keys_seen, following=lambda: self._following)
        # Mounted before the request goes out, so the first piece finds it composed.
        await self.query_one("#chat-log", VerticalScroll).mount(view)
        body = self.conversation.request_body(target.model, stream=self.stream_replies)
        self._worker = self.stream_reply(endpoint, target, body, view)
        self.refresh_bindings()

    @work(exclusive=True, group="chat")
    async def stream_reply(
        self, endpoint: ChatEndpoint, target: ChatTarget, body: dict[str, Any], view: ReplyView
    ) -> None:
        from vtui.services.chat_turn import explain_turn

        recorder = ReplyRecorder(self.vtui.clock)
        problem: Explained | None = None
        try:
            async for event in endpoint.chat(body):
                view.add(recorder.add(event))
        except EndpointError as exc:
            problem = await explain_turn(endpoint, exc.fault, target, recorder)
        except asyncio.CancelledError:
            # Esc: leaving the loop closed the connection; the words so far stay.
            self._finish(view, recorder, None, True)
            raise
        self._finish(view, recorder, problem, False)

    def _finish(
        self, view: ReplyView, recorder: ReplyRecorder, problem: Explained | None, stopped: bool
    ) -> None:
        view.add(recorder.end())
        self.post_message(self.ReplyEnded(view, recorder, problem, stopped))

    def on_reply_view_grew(self, message: ReplyView.Grew) -> None:
        if self._following:
            log = self.query_one("#chat-log", VerticalScroll)
            log.call_after_refresh(log.scroll_end, animate=False, immediate=True)
        # A reply still drawing folds as it draws, in the same frame.
        if message.settled:
            self._refold_after_refresh()

    async def on_chat_screen_reply_ended(self, message: ReplyEnded) -> None:
        if message.view.withdrawn:
            # A new chat (or a retry) withdrew it: it belongs to no conversation now.
            self.refresh_bindings()
            return
        recorder = message.recorder
        stats = None
        problem = message.problem
        if problem is None or recorder.answer:
            stats = recorder.stats("stopped" if message.stopped else None)
        message.view.finish_when_drawn(stats, problem)
        if problem is None:
            self.conversation.turns.append(
                ChatTurn("assistant", recorder.answer, recorder.reasoning, stats, message.stopped)
            )
        self.refresh_bindings()

    # -- keys ----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False
        if action == "stop":
            return self.streaming
        if action == "leave_input":
            return not self.streaming
        if action == "retry":
            return not self.streaming and self.conversation.last_user_text is not None
        if action in ("save", "copy_reply"):
            return any(t.role == "assistant" for t in self.conversation.turns)
        return True

    def action_stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def escape_taken(self) -> bool:
        """Esc stops a streaming reply before it leaves the input."""
        return self.streaming

    def action_leave_input(self) -> None:
        # Digits type into the input; leaving it gives them back to the screen keys 1-5.
        self.query_one("#chat-log", VerticalScroll).focus()

    def action_type(self) -> None:
        self.query_one(Input).focus()

    async def action_retry(self) -> None:
        """Ask again for the last reply: after an error, or for a different answer."""
        if self.streaming or self.conversation.last_user_text is None:
            return
        turns = self.conversation.turns
        if turns and turns[-1].role == "assistant":
            turns.pop()
        views = self.query(ReplyView)
        if views:
            views.last().withdraw()
            await views.last().remove()
        await self._start_reply()

    async def action_new_chat(self) -> None:
        lost = self.unfinished()
        if lost is None:
            await self._new_chat()
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._new_chat()

        from vtui.ui.widgets.dialogs import Confirm

        self.app.push_screen(Confirm(f"Start a new chat? {lost}."), answered)

    async def _new_chat(self) -> None:
        self._saved_turns = 0
        if self._worker is not None:
            self._worker.cancel()
        self.conversation.turns.clear()
        for view in self._replies():
            view.withdraw()
        await self.query_one("#chat-log", VerticalScroll).remove_children()
        self.refresh_bindings()
        self.query_one(Input).focus()

    def action_settings(self) -> None:
        model = self._target_model() or ""
        current = ChatSettings(
            model, self.conversation.system, self.conversation.settings, self.stream_replies
        )
        models = tuple(m.id for m in self.served)
        self.app.push_screen(ChatSettingsScreen(current, models), self._settings_chosen)

    def _settings_chosen(self, chosen: ChatSettings | None) -> None:
        if chosen is None:
            return
        self.model = chosen.model or None
        self.conversation.system = chosen.system
        self.conversation.settings = chosen.sampling
        self.stream_replies = chosen.stream
        self._show_status()

    def _reply_to_copy(self) -> str | None:
        focused = self.focused
        if isinstance(focused, ReplyView) and focused.answer_text:
            return focused.answer_text
        replies = [t for t in self.conversation.turns if t.role == "assistant"]
        return replies[-1].content if replies else None

    def action_copy_reply(self) -> None:
        text = self._reply_to_copy()
        if text is None:
            return
        # OSC 52: the terminal puts it on the clipboard, over SSH too where the terminal allows.
        self.app.copy_to_clipboard(text)
        self.notify(f"Reply copied ({len(text):,} characters).")

    def action_save(self) -> None:
        target = self.target()
        model = target.model if target else (self._target_model() or "unknown")
        url = target.url if target else (self._url() or "")
        self.save_conversation(model, url, datetime.now())

    @work(thread=True, group="chat-save")
    def save_conversation(self, model: str, url: str, now: datetime) -> None:
        from vtui.services.saving import save_chat

        saved_at = now.isoformat(timespec="seconds")
        turns = len(self.conversation.turns)
        try:
            json_path, md_path = save_chat(
                self.vtui.backends,
                now.strftime("%Y%m%d-%H%M%S"),
                self.conversation.to_json(model, url, saved_at),
                self.conversation.to_markdown(model, url, saved_at),
            )
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, f"Could not save the chat: {exc}", severity="error"
            )
            return
        self.app.call_from_thread(setattr, self, "_saved_turns", turns)
        self.app.call_from_thread(self.notify, f"Saved {json_path} and {md_path.name}")
