"""`vtui chat --prompt` as a script uses it: the answer on stdout, the rest on stderr, and an
exit code that says whether it worked."""

from __future__ import annotations

import os

import pytest

from tests.support.helpers import run_vtui, simulator

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def test_the_reply_streams_to_stdout_and_the_figures_to_stderr() -> None:
    with simulator("--model", MODEL) as sim:
        done = run_vtui("chat", "--endpoint", f"{sim.url}/v1", "--prompt", "Say hi")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"This is vtui's vLLM simulator answering as {MODEL}.")
    assert "You asked: \u201cSay hi\u201d" in done.stdout
    figures = done.stderr.strip().splitlines()[-1]
    assert figures.startswith("TTFT ") and "tok/s" in figures and "completion" in figures


def test_reasoning_goes_to_stderr_and_max_tokens_cuts_the_reply() -> None:
    with simulator("--model", "Qwen/Qwen3-8B", "--reasoning-parser", "qwen3") as sim:
        done = run_vtui("chat", "--endpoint", sim.url, "--prompt", "2+2?", "--max-tokens", "30")
    assert done.returncode == 0, done.stderr
    assert "thinking: The user asks" in done.stderr
    assert "The user asks" not in done.stdout
    assert "cut at max tokens" in done.stderr


def test_a_thought_the_template_opened_is_named_on_stderr_when_it_closes() -> None:
    with simulator("--model", "Qwen/Qwen3-8B", "--sim-think-in-template") as sim:
        done = run_vtui("chat", "--endpoint", sim.url, "--prompt", "2+2?")
    assert done.returncode == 0, done.stderr
    # Streamed before its end was known: on stdout, then named for what it was.
    assert done.stdout.startswith("The user asks")
    assert "the text above was the model's reasoning" in done.stderr
    assert "</think>" not in done.stdout
    assert "\nThis is vtui's vLLM simulator" in done.stdout


@pytest.mark.security("api-key-masked")
def test_a_wrong_key_fails_with_exit_1_and_the_key_is_never_printed() -> None:
    os.environ["VTUI_TEST_KEY"] = "sk-wrong-0123456789"
    try:
        with simulator("--model", MODEL, api_key="sk-right") as sim:
            done = run_vtui(
                "chat", "--endpoint", sim.url, "--api-key-env", "VTUI_TEST_KEY",
                "--model", MODEL, "--prompt", "hi",
            )  # fmt: skip
    finally:
        del os.environ["VTUI_TEST_KEY"]
    assert done.returncode == 1
    assert "401 Unauthorized" in done.stderr and "$VTUI_TEST_KEY" in done.stderr
    assert "sk-wrong" not in done.stdout + done.stderr


def test_bad_arguments_say_what_to_do() -> None:
    unset = run_vtui("chat", "--endpoint", "http://127.0.0.1:9", "--api-key-env", "NOPE_X")
    assert unset.returncode == 1 and "$NOPE_X is not set" in unset.stderr
    not_url = run_vtui("chat", "--endpoint", "localhost:8000", "--prompt", "x")
    assert "give a URL" in not_url.stderr
    no_tty = run_vtui("--demo", "chat")
    assert no_tty.returncode == 1 and "interactive terminal" in no_tty.stderr


def test_without_endpoint_it_talks_to_the_running_deployment() -> None:
    done = run_vtui("--demo", "chat", "--prompt", "which model are you")
    assert done.returncode == 0, done.stderr
    assert f"answering as {MODEL}" in done.stdout
