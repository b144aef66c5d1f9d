"""The Chat screen driven by keys: stop with Esc, retry after a failure, settings, new chat,
save and copy; against the demo and against the simulator as a real HTTP server."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from textual.widgets import Collapsible, Input, Label, Static

from tests.support.chat_helpers import (
    LONG_REPLY_TOKENS,
    chat,
    chat_app,
    chat_with_long_replies,
    open_chat,
    reply_drawn,
    send_without_waiting,
    until,
)
from tests.support.helpers import (
    REPO,
    TickingClock,
    demo_app,
    free_port,
    simulator,
    simulator_argv,
    wait_for_health,
)
from vtui.backends.registry import demo_backends
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.chat import ChatScreen
from vtui.ui.widgets.chat_reply import ReplyView
from vtui.ui.widgets.chat_settings import ChatSettingsScreen
from vtui.ui.widgets.dialogs import Confirm
from vtui.ui.widgets.long_markdown import LongMarkdown


def text(widget: Static) -> str:
    return str(widget.render())


async def test_esc_stops_a_reply_keeps_its_words_and_the_server_sees_the_hang_up() -> None:
    with simulator("--model", "Qwen/Qwen2.5-7B-Instruct", "--sim-token-delay", "0.05") as sim:
        app = chat_app(sim.url)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = chat(app)
            await until(lambda: screen.served)
            await pilot.press(*"tell me everything", "enter")
            await until(lambda: len(screen.query(ReplyView).last().answer_text.split()) >= 5)
            assert screen.streaming
            await pilot.press("escape")
            await until(lambda: not screen.streaming)
            await pilot.pause(0.1)
            reply = screen.conversation.turns[-1]
            assert reply.role == "assistant" and reply.stopped
            assert 5 <= len(reply.content.split()) < 40  # the words so far, not the whole reply
            view = screen.query(ReplyView).last()
            assert "stopped" in text(view.query_one(".chat-stats", Static))
            # Esc again, with nothing streaming, leaves the input as before.
            await pilot.press("escape")
            assert not isinstance(app.focused, Input)
        await asyncio.sleep(0.3)
        sim.proc.terminate()
        out, _ = sim.proc.communicate(timeout=10)
    assert "Aborted request chatcmpl-" in out


@pytest.mark.fault("endpoint-down-chat")
async def test_a_failed_request_keeps_the_question_and_retry_asks_again() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = chat_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = chat(app)
        screen.model = "Qwen/Qwen2.5-7B-Instruct"  # nothing to ask /v1/models yet
        await pilot.press(*"are you there", "enter")
        await until(lambda: not screen.streaming and screen.query(".failed"))
        error = text(screen.query_one(".chat-error", Static))
        assert f"Nothing answers at {url}" in error and "ctrl+r" in error
        assert [t.role for t in screen.conversation.turns] == ["user"]
        server = subprocess.Popen(
            simulator_argv(port, "--model", "Qwen/Qwen2.5-7B-Instruct", "--sim-token-delay", "0"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
        )
        try:
            await asyncio.to_thread(wait_for_health, url)
            await pilot.press("ctrl+r")
            await until(lambda: reply_drawn(screen))
        finally:
            server.terminate()
            server.wait(timeout=10)
        assert len(screen.query(ReplyView)) == 1  # the failed one made way for the retry
        assert "You asked: \u201care you there\u201d" in screen.conversation.turns[1].content


@pytest.mark.parametrize(
    "thought_sent",
    [
        ("--reasoning-parser", "qwen3"),  # in delta.reasoning
        (),  # in the content, between <think> tags
        ("--sim-think-in-template",),  # in the content, only </think>: drawn, then moved
    ],
    ids=["reasoning-parser", "think-tags", "think-opened-by-template"],
)
async def test_reasoning_streams_into_a_folded_block_above_the_answer(
    thought_sent: tuple[str, ...],
) -> None:
    with simulator("--model", "Qwen/Qwen3-8B", *thought_sent) as sim:
        app = chat_app(sim.url)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = chat(app)
            await until(lambda: screen.served)
            await pilot.press(*"2+2?", "enter")
            await until(lambda: reply_drawn(screen))
            await pilot.pause(0.1)
            view = screen.query(ReplyView).last()
            block = view.query_one(Collapsible)
            assert block.display and block.collapsed and block.title == "Reasoning"
            thought = view.query_one(".chat-reasoning-text", LongMarkdown).source
            assert thought.startswith("The user asks \u201c2+2?\u201d")
            assert "</think>" not in thought and not thought.endswith("\n")
            answer_box = view.query_one(".chat-answer", LongMarkdown)
            answer = answer_box.source
            assert answer.startswith("This is vtui's vLLM simulator") and "user asks" not in answer
            # What is drawn is what is kept: no block of the thought left in the answer.
            assert list(answer_box.children) == answer_box.parts
            assert answer == screen.conversation.turns[1].content
            assert screen.conversation.turns[1].reasoning == thought


async def test_settings_are_checked_then_shape_the_next_request() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_chat(app, pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ChatSettingsScreen)
        dialog.query_one("#settings-max_tokens", Input).value = "lots"
        dialog.query_one("#settings-system", Input).value = "Answer in one line."
        await pilot.press("ctrl+s")
        await pilot.pause()
        problem = text(dialog.query_one("#settings-problem", Static))
        assert "max_tokens: a whole number" in problem
        dialog.query_one("#settings-max_tokens", Input).value = "5"
        dialog.query_one("#settings-extra", Input).value = "top_k=20"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "max_tokens=5" in text(screen.query_one("#chat-status", Static))
        await pilot.press(*"count to ten", "enter")
        await settle(app)
        reply = screen.conversation.turns[-1]
        assert len(reply.content.split()) == 5
        assert "cut at max tokens" in text(screen.query(".chat-stats").last(Static))
        body = screen.conversation.request_body("m")
        assert body["messages"][0] == {"role": "system", "content": "Answer in one line."}
        assert body["top_k"] == 20


async def test_copy_save_and_new_chat() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_chat(app, pilot)
        await pilot.press(*"first question", "enter")
        await settle(app)
        await pilot.press("ctrl+y")
        assert app.clipboard == screen.conversation.turns[-1].content
        await pilot.press("ctrl+s")
        await settle(app)
        saved = sorted(app.backends.places.chats.glob("chat-*"))
        assert [p.suffix for p in saved] == [".json", ".md"]
        record = json.loads(saved[0].read_text())
        assert record["model"] == "Qwen/Qwen2.5-7B-Instruct"
        assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
        assert "## You\n\nfirst question" in saved[1].read_text()
        await pilot.press("ctrl+n")
        await settle(app)
        assert screen.conversation.turns == [] and not screen.query(ReplyView)


@pytest.mark.fault("endpoint-down-chat")
async def test_a_stopped_container_is_named_in_the_error() -> None:
    backends = demo_backends(7, TickingClock(step=0), token_delay=0)
    running = backends.engine.list_deployments()[0]
    backends.engine.stop(running.container_id)
    app = VtuiApp(backends, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_chat(app, pilot)
        assert "container exited" in text(screen.query_one("#chat-status", Static))
        await pilot.press(*"hello", "enter")
        await settle(app)
        error = text(screen.query_one(".chat-error", Static))
        assert "The server is not running: its container exited" in error


async def test_a_reply_faster_than_the_screen_is_drawn_whole_and_in_order() -> None:
    async with chat_with_long_replies() as (_app, pilot, screen):
        await pilot.press(*"go", "enter")
        await until(lambda: reply_drawn(screen), limit=60)
        view = screen.query(ReplyView).last()
        drawn = view.query_one(".chat-answer", LongMarkdown).source
    reply = screen.conversation.turns[1].content
    assert len(reply.split()) == LONG_REPLY_TOKENS
    assert drawn == reply


def drawing_a_backlog(screen: ChatScreen) -> bool:
    views = screen.query(ReplyView)
    return bool(views) and len(views.last().pending) > 0


async def test_a_new_chat_while_a_reply_is_still_being_drawn_starts_clean() -> None:
    async with chat_with_long_replies() as (app, pilot, screen):
        await send_without_waiting(app, pilot, "go")
        await until(lambda: drawing_a_backlog(screen))
        await pilot.press("ctrl+n")
        await settle(app)
        await pilot.press("y")  # the conversation is not saved: it asks first
        await settle(app)
        assert not screen.query(ReplyView)
        assert screen.conversation.turns == []
        await pilot.press(*"again", "enter")
        await until(lambda: reply_drawn(screen), limit=60)
        assert len(screen.query(ReplyView)) == 1


@pytest.mark.parametrize("batch", [1, 3])
async def test_quitting_in_the_middle_of_drawing_a_batch_ends_without_an_error(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    append = LongMarkdown.append
    appended = 0

    async def quit_halfway(self: LongMarkdown, text: str) -> None:
        nonlocal appended
        appended += 1
        if appended == batch:
            self.app.exit()  # the quit key, handled while this batch is being drawn
        await append(self, text)

    monkeypatch.setattr(LongMarkdown, "append", quit_halfway)
    # run_test raises what the app raised while it ran, also during its exit.
    async with chat_with_long_replies() as (app, pilot, _screen):
        await send_without_waiting(app, pilot, "go")
        await until(lambda: appended >= batch)
    assert app.return_code == 0


async def test_the_app_shutting_down_in_the_middle_of_a_batch_ends_without_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Shut down without exit(): the app stops running while the blocks are being added, as
    # when the run ends from outside (the terminal gone, or a test or benchmark done).
    append = LongMarkdown.append
    halfway = asyncio.Event()

    async def shut_down_halfway(self: LongMarkdown, text: str) -> None:
        if not halfway.is_set():
            halfway.set()
            await until(lambda: not self.app.is_running)
        await append(self, text)

    monkeypatch.setattr(LongMarkdown, "append", shut_down_halfway)
    async with chat_with_long_replies() as (app, pilot, _screen):
        await send_without_waiting(app, pilot, "go")
        # Leaving run_test shuts the app down; it raises what the app raised, also then.
        await halfway.wait()


async def test_the_conversation_keeps_its_width_when_it_outgrows_the_view() -> None:
    # The scrollbar's room is kept from the start: when it shows, nothing wraps again.
    async with chat_with_long_replies() as (_app, pilot, screen):
        log = screen.query_one("#chat-log")
        width = log.scrollable_content_region.width
        await pilot.press(*"go", "enter")
        await until(lambda: reply_drawn(screen), limit=60)
        assert log.max_scroll_y > 0
        assert log.scrollable_content_region.width == width


async def test_new_chat_and_quit_ask_first_when_the_conversation_is_not_saved() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_chat(app, pilot)
        await pilot.press(*"a question", "enter")
        await settle(app)
        await pilot.press("ctrl+n")
        await settle(app)
        assert isinstance(app.screen, Confirm) and "2 turns are not saved" in str(
            app.screen.query_one(Label).render()
        )
        await pilot.press("n")  # keep it
        await settle(app)
        assert len(screen.conversation.turns) == 2
        app.set_focus(None)
        await pilot.press("q")
        await settle(app)
        assert isinstance(app.screen, Confirm)  # quitting would lose it too
        await pilot.press("escape")
        await settle(app)
        assert app.return_code is None  # still running
        await pilot.press("ctrl+s")
        await settle(app)
        await pilot.press("ctrl+n")  # saved: nothing to lose, no question
        await settle(app)
        assert not isinstance(app.screen, Confirm) and screen.conversation.turns == []


async def test_q_quits_at_once_when_nothing_would_be_lost() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.press("escape", "q")
        await settle(app)
        assert app.return_code == 0
