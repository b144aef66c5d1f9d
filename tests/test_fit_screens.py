"""The fit where people decide: the Launch form's bar and its fix key, the Models table."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import DataTable, Input

from tests.support.helpers import ManualClock, demo_app
from tests.support.screens import open_launch, shown, type_into
from vtui.core.fit_launch import estimate_launch, gpu_memory
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.launch import LaunchScreen
from vtui.ui.widgets.fit_bar import FitBar


def fit_text(app: VtuiApp) -> str:
    # Words as read, whatever the wrapping.
    return " ".join(shown(app.screen.query_one(FitBar)).split())


async def test_the_demo_profile_shows_its_fit_as_a_bar_with_figures() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        text = fit_text(app)
        assert "\u2588" * 40 in text  # the bar
        assert "weights 14.2" in text and "KV cache 54.1" in text and "of 79.2 GiB" in text
        # The figure is the core estimator's for the demo's inputs, shown as computed.
        screen = app.screen
        assert isinstance(screen, LaunchScreen) and screen.spec and screen.checkpoint
        memory = gpu_memory(screen.spec, screen.gpus)
        assert memory is not None
        expected = estimate_launch(screen.spec, screen.checkpoint, memory)
        assert f"fits: {expected.kv_cache_tokens:,} KV tokens" in text
        assert expected.kv_cache_tokens and 900_000 < expected.kv_cache_tokens < 1_100_000


async def test_a_change_in_the_form_moves_the_fit_and_the_fix_key_applies_the_advice() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        await type_into(app, pilot, "gpu-memory-utilization", "0.25")
        await type_into(app, pilot, "max-model-len", "131072")
        text = fit_text(app)
        # Beyond the model's 32,768 positions vLLM refuses to start, whatever the memory.
        assert "vLLM refuses --max-model-len 131,072: the model holds 32,768" in text
        assert "ctrl+f: max-model-len 32768" in text
        screen.query_one("#field-max-model-len Input", Input).blur()
        await pilot.press("ctrl+f")
        await settle(app)
        assert screen.query_one("#field-max-model-len Input", Input).value == "32768"
        assert screen.spec is not None and screen.spec.args["--max-model-len"] == 32768
        assert "fits, but only 1.5 requests at full length" in fit_text(app)  # 49,424 tokens
        assert not screen.saved  # the fix edits the form; saving stays the user's call


async def test_a_model_that_cannot_be_read_says_so_instead_of_a_number() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await type_into(app, pilot, "model", "/nonexistent/model-dir")
        await settle(app)
        text = fit_text(app)
        assert "cannot read the model" in text and "does not exist" in text
        assert "fits" not in text


async def test_the_models_table_gives_each_model_a_verdict_for_this_machine() -> None:
    app = demo_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app)
        table: DataTable[Any] = app.screen.query_one(DataTable)
        verdicts = {
            str(key.value): str(table.get_cell(key.value, app.screen.fit_column))  # type: ignore[attr-defined]
            for key in table.rows
        }
        assert verdicts["Qwen/Qwen3-8B"].startswith("fits ")
        # At vLLM's 0.92 two H100s take its weights at TP 2 (at 0.9 it took TP 4).
        assert verdicts["meta-llama/Llama-3.3-70B-Instruct"] == "needs TP 2"
        # 0.92 leaves it room for one request at its full length (at 0.9 it needed less).
        assert verdicts["Qwen/Qwen2.5-Coder-32B-Instruct"] == "fits 1.0x"
        # Sliding-window layers are counted as vLLM counts them, so Gemma 3 gets a verdict.
        assert verdicts["google/gemma-3-27b-it"].startswith("fits")
        assert verdicts["openai/gpt-oss-20b"].startswith("fits")
        # The details say what holds GPU 0 by its container, as the Launch screen does.
        summary = app.screen.fit_summaries["Qwen/Qwen3-8B"]  # type: ignore[attr-defined]
        assert "vtui-qwen2.5-7b-instruct 71.7 GiB on GPU 0" in summary
        await pilot.press("q")


async def wait_for_fit(app: VtuiApp, words: str, limit: float = 10.0) -> str:
    for _ in range(int(limit / 0.1)):
        await asyncio.sleep(0.1)
        if words in fit_text(app):
            break
    return fit_text(app)


async def test_memory_another_container_holds_counts_and_the_fix_key_picks_a_free_gpu() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.selected_model = "Qwen/Qwen3-8B"  # a new profile beside the demo's running one
        screen = await open_launch(app, pilot)
        text = await wait_for_fit(app, "refuse")
        # The demo's own container holds GPU 0: vLLM would refuse, and says who holds it.
        assert "vLLM will refuse to start now" in text
        assert "vtui-qwen2.5-7b-instruct 71.7 GiB on GPU 0" in text
        assert "ctrl+f: use GPU 1 (free now)" in text
        await pilot.press("ctrl+f")
        await settle(app)
        assert screen.spec is not None and screen.spec.gpus == (1,)
        assert "refuse" not in await wait_for_fit(app, "fits")


async def test_the_running_profile_s_own_memory_is_not_counted_against_it() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)  # the demo's profile, whose container holds GPU 0
        assert "refuse" not in await wait_for_fit(app, "fits")


async def test_the_probe_key_measures_the_profile_and_the_fit_then_uses_vllms_figures() -> None:
    clock = ManualClock()
    app = demo_app(clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        await wait_for_fit(app, "fits")
        await pilot.press("ctrl+t")
        for _ in range(100):  # the demo's probe container starts as the clock moves
            clock.now += 2
            await asyncio.sleep(0.1)
            if "budget measured by vLLM" in fit_text(app):
                break
        text = fit_text(app)
        assert "probe: measured" in text and "KV tokens" in text
        status = str(screen.query_one("#launch-status").render())
        assert "probe of qwen2.5-7b: measured" in status
        listed = [d.name for d in app.backends.engine.list_deployments()]
        assert not any(name.startswith("vtui-probe-") for name in listed)  # removed


async def test_auto_in_the_length_field_lets_vllm_fit_it_and_the_fit_says_about_how_long() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        await type_into(app, pilot, "gpu-memory-utilization", "0.235")
        await type_into(app, pilot, "max-model-len", "auto")
        text = await wait_for_fit(app, "auto")
        assert screen.spec is not None and screen.spec.args["--max-model-len"] == -1
        assert not [p for p in screen.problems if p.field == "--max-model-len"]
        # At 0.235 the model's 32,768 positions do not fit: vLLM's -1 picks what does.
        about = int(text.split("max-model-len auto: about ")[1].split(" ")[0].replace(",", ""))
        assert 8_192 < about < 32_768
        preview = shown(screen.query_one("#compose-preview"))
        assert "--max-model-len" in preview and "-1" in preview
