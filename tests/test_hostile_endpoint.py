"""A hostile OpenAI-compatible server (support/hostile_endpoint.py) against vtui's real client:
escape sequences in replies and errors, broken JSON and wrong types, a line that never ends,
keep-alives for ever, a trickle, and /metrics pages with impossible figures. In every case
vtui ends with one message, draws and prints no control sequence, and holds bounded memory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.hostile_endpoint import ATTACKS, MODEL, HostileEndpoint, hostile_endpoint
from tests.support.pty_session import vtui_on_a_terminal
from vtui.backends.endpoint import EndpointError
from vtui.backends.endpoint.http import MAX_METRICS_BYTES, HttpEndpoint
from vtui.services.serving import ServingWatch

# What no byte vtui writes may hold: ESC, a C1 control, BEL.
RAW_CONTROLS = (b"\x1b", "\x9b".encode(), b"\x07")
# How each attack on a chat ends for `vtui chat --prompt`: 0 with the reply, or 1 and a word
# of the one line that says why.
OUTCOMES = {
    "escapes-in-content": (0, ""),
    "nested-json": (1, "cannot read"),
    "wrong-types": (1, "cannot read"),
    "content-is-a-number": (1, "cannot read"),
    "choices-is-a-string": (1, "cannot read"),
    "huge-line": (1, "cannot read"),
    "escapes-in-error": (1, "bad"),
}


def vtui_chat(server: HostileEndpoint) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "vtui", "chat", "--endpoint", server.url, "--prompt", "hi"],
        capture_output=True, timeout=60, env=env,
    )  # fmt: skip


def test_every_chat_attack_has_an_expected_outcome() -> None:
    slow = {"endless-comments", "trickle"}  # these are for the deadline tests below
    assert set(OUTCOMES) | slow == set(ATTACKS)


@pytest.mark.attack("terminal-escapes")
@pytest.mark.attack("malformed-answers")
@pytest.mark.parametrize("attack", sorted(OUTCOMES))
def test_a_hostile_reply_is_printed_harmless_or_refused_in_one_line(attack: str) -> None:
    code, word = OUTCOMES[attack]
    with hostile_endpoint(attack) as server:
        done = vtui_chat(server)
    for stream in (done.stdout, done.stderr):
        assert not any(control in stream for control in RAW_CONTROLS), (attack, stream[:300])
    err = done.stderr.decode()
    assert "Traceback" not in err
    assert done.returncode == code, err
    if code:
        (line,) = [x for x in err.splitlines() if x.startswith("vtui: error:")]
        assert word in line.lower(), line
    else:  # the attack is shown, plainly, as text
        assert "\u241b]52;c;SG9zdGlsZQ==\u2407" in done.stdout.decode()
        assert "\u241b]0;PWNED-TITLE" in done.stderr.decode()  # the reasoning, on stderr


async def read_reply(endpoint: HttpEndpoint) -> list[object]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return [event async for event in endpoint.chat(body)]


@pytest.mark.attack("deadlines")
@pytest.mark.parametrize("attack", ["endless-comments", "trickle"])
def test_a_server_that_never_finishes_a_reply_cannot_hold_it(attack: str) -> None:
    with hostile_endpoint(attack) as server:
        endpoint = HttpEndpoint(server.url, read_timeout=2.0)
        started = time.monotonic()
        with pytest.raises(EndpointError) as caught:
            asyncio.run(asyncio.wait_for(read_reply(endpoint), timeout=30))
        took = time.monotonic() - started
    assert caught.value.fault.kind == "timeout", caught.value
    assert took < 10, took


@pytest.mark.attack("bounded-memory")
def test_a_line_that_never_ends_ends_the_reply_at_the_bound() -> None:
    with hostile_endpoint("huge-line") as server:
        endpoint = HttpEndpoint(server.url, read_timeout=20.0)
        with pytest.raises(EndpointError, match="passed 1,048,576 bytes"):
            asyncio.run(read_reply(endpoint))


IMPOSSIBLE_PAGES = {
    "+Inf gauge": "vllm:num_requests_running +Inf\n",
    "NaN gauge": "vllm:num_requests_waiting NaN\n",
    "negative counter": "# TYPE vllm:prompt_tokens counter\nvllm:prompt_tokens_total -5\n",
    "usage over 1": "vllm:kv_cache_usage_perc 7.5\n",
    "beyond float range": "vllm:generation_tokens_total 1e999\n",
    "falling buckets": (
        "# TYPE vllm:time_to_first_token_seconds histogram\n"
        'vllm:time_to_first_token_seconds_bucket{le="0.1"} 9\n'
        'vllm:time_to_first_token_seconds_bucket{le="+Inf"} 3\n'
        "vllm:time_to_first_token_seconds_sum 1\nvllm:time_to_first_token_seconds_count 3\n"
    ),
}


@pytest.mark.attack("metric-ranges")
@pytest.mark.parametrize("page", sorted(IMPOSSIBLE_PAGES))
def test_an_impossible_figure_reads_as_not_reported(page: str) -> None:
    with hostile_endpoint() as server:
        server.metrics_body = IMPOSSIBLE_PAGES[page].encode()
        watch = ServingWatch(HttpEndpoint(server.url))
        update = watch.step(at=0.0)
        sample = watch.history.samples[-1] if watch.history.samples else None
    assert update.problem is None, update.problem
    assert sample is not None
    figures = [sample.running, sample.waiting, sample.prompt_tokens, sample.kv_usage,
               sample.generation_tokens, sample.ttft]  # fmt: skip
    assert figures == [None] * len(figures), (page, figures)


@pytest.mark.attack("bounded-memory")
def test_a_metrics_page_past_the_bound_is_refused_with_a_message() -> None:
    with hostile_endpoint() as server:
        server.metrics_body = b"# " + b"x" * (MAX_METRICS_BYTES + 10) + b"\n"
        update = ServingWatch(HttpEndpoint(server.url)).step(at=0.0)
    assert update.problem is not None and "passed" in update.problem


@pytest.mark.attack("malformed-answers")
@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"data": "nope"}', b'{"data": [{"id": 5}]}', b"\xff\xfe", b"null"],
    ids=["nested", "data-not-a-list", "id-not-text", "not-utf8", "null"],
)
def test_a_broken_models_list_is_an_error_never_a_crash(body: bytes) -> None:
    with hostile_endpoint() as server:
        server.models_body = body
        with pytest.raises(EndpointError) as caught:
            HttpEndpoint(server.url).model_cards()
    assert caught.value.fault.kind == "malformed"


@pytest.mark.attack("terminal-escapes")
def test_a_model_id_with_escapes_is_listed_harmless() -> None:
    with hostile_endpoint() as server:
        server.models_body = b'{"data": [{"id": "m\\u001b]0;PWNED\\u0007"}]}'
        (card,) = HttpEndpoint(server.url).model_cards()
    assert card.id == "m\u241b]0;PWNED\u2407"


RAW_PAYLOADS = (b"\x1b]52;c;SG9zdGlsZQ", b"\x1b]0;PWNED", b"\x1b[2J\x1b[H", "\x9b2J".encode())


@pytest.mark.attack("terminal-escapes")
@pytest.mark.attack("malformed-answers")
def test_the_chat_screen_shows_hostile_replies_as_text_and_keeps_running(
    tmp_path: Path,
) -> None:
    """The Chat screen on a pseudo-terminal: a reply full of escape sequences is drawn as
    text, then a reply of the wrong types is one message, and vtui is still running."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)}
    with hostile_endpoint("escapes-in-content") as server:
        with vtui_on_a_terminal("chat", "--endpoint", server.url, env=env) as tui:
            tui.read(6)
            tui.type(b"hello\r")
            assert tui.read_until(b"SG9zdGlsZQ==", 20), "the reply was never drawn"
            server.attack = "wrong-types"
            tui.read(1)
            tui.type(b"again\r")
            assert tui.read_until(b"cannot read", 20), "the bad reply was never explained"
            tui.read(1)
            assert tui.alive()
        assert server.chats == 2
    found = [raw for raw in RAW_PAYLOADS if raw in tui.screen]
    assert found == [], found
