"""`vtui attach URL`: any OpenAI-compatible server as a deployment without a log. Checked
before it is kept (a page that is no model list, a 404, a wrong key each get one line and
nothing kept); then ps, chat, bench and down work on it by name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.helpers import run_vtui, simulator
from tests.support.hostile_endpoint import hostile_endpoint

QWEN = "Qwen/Qwen2.5-7B-Instruct"


def test_an_attached_server_is_listed_chatted_with_load_tested_and_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    with simulator("--model", QWEN, api_key="s3cret-attach-key", keep_log=False) as sim:
        monkeypatch.setenv("LAB_KEY", "s3cret-attach-key")
        made = run_vtui("attach", sim.url + "/v1", "--api-key-env", "LAB_KEY", "--name", "lab",
                        config=config)  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert f"attached lab: {sim.url}/v1 serves {QWEN}" in made.stdout
        ps = json.loads(run_vtui("ps", "--json", config=config).stdout)
        (row,) = [r for r in ps if r["name"] == "lab"]
        assert row["runtime"] == "endpoint" and row["state"] == "running"
        assert row["model"] == QWEN and row["address"] == sim.url
        chat = run_vtui("chat", "--name", "lab", "--prompt", "hi", config=config)
        assert chat.returncode == 0 and "You asked" in chat.stdout, chat.stderr
        bench = run_vtui("bench", "--name", "lab", "--duration", "2", "--concurrency", "2",
                         config=config)  # fmt: skip
        assert bench.returncode == 0 and "errors      none" in bench.stdout, bench.stderr
        logs = run_vtui("logs", "lab", config=config)
        assert logs.returncode == 0 and logs.stdout.strip() == ""
        twice = run_vtui("attach", sim.url, "--name", "lab", "--api-key-env", "LAB_KEY",
                         config=config)  # fmt: skip
        assert twice.returncode == 1 and "attached already" in twice.stderr
        down = run_vtui("down", "lab", config=config)
        assert "detached lab; the server itself keeps running" in down.stdout
        assert sim.proc.poll() is None  # it does
    # The key was never written: only the variable's name.
    kept = (config / "state" / "vtui" / "attached.json").read_text()
    assert "s3cret-attach-key" not in kept
    assert json.loads(kept) == []


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (200, b"<html><body>welcome</body></html>", "vtui cannot read"),
        (404, b"Not Found", "404"),
        (401, b'{"error": "Unauthorized"}', "401 Unauthorized"),
        (200, b'{"object": "list", "data": []}', "lists no model"),
    ],
    ids=["html", "no-v1", "wrong-key", "no-model"],
)
def test_a_url_that_is_no_openai_server_is_refused_in_one_line_and_not_kept(
    tmp_path: Path, status: int, body: bytes, said: str
) -> None:
    config = tmp_path / "config"
    with hostile_endpoint() as server:
        server.models_status, server.models_body = status, body
        done = run_vtui("attach", server.url, "--name", "x", config=config)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("vtui: error: ") and said in lines[0], lines
    assert not (config / "state" / "vtui" / "attached.json").exists()
    assert "Traceback" not in done.stderr


def test_a_missing_key_variable_and_a_bad_url_are_refused_before_asking(tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = {k: v for k, v in os.environ.items() if k != "NO_SUCH_KEY"}
    assert "NO_SUCH_KEY" not in env
    done = run_vtui("attach", "http://127.0.0.1:9", "--api-key-env", "NO_SUCH_KEY", config=config)
    assert done.returncode == 1 and "$NO_SUCH_KEY is not set" in done.stderr
    bad = run_vtui("attach", "10.0.0.5:8000", config=config)
    assert bad.returncode == 1 and "give a URL" in bad.stderr


def test_the_server_screens_watch_reads_an_attached_server_without_a_log() -> None:
    """What the Server screen shows of it: healthy, its models, no line of log (and the
    watch stays on it: an empty log does not end the follow at once)."""
    import threading
    import time

    from tests.support.helpers import demo
    from vtui.core.startup import Phase
    from vtui.services.attaching import attach
    from vtui.services.following import DeploymentWatch

    backends = demo()
    with simulator("--model", QWEN, keep_log=False) as sim:
        done = attach(backends, sim.url, "lab")
        watch = DeploymentWatch.of(backends, done.deployment.container_id)
        first = watch.step()
        assert first.models == (QWEN,) and first.lines == ()
        assert first.phase in (Phase.READY, Phase.SERVING)
        updates: list[object] = []
        stopping = threading.Event()
        runner = threading.Thread(target=watch.run, args=(updates.append, stopping))
        runner.start()
        time.sleep(1.5)
        stopping.set()
        runner.join(5)
        assert not runner.is_alive()
        assert len(updates) <= 4  # a poll a second, not a loop re-attaching at full speed


async def test_A_on_the_server_screen_attaches_a_url_and_follows_it() -> None:
    from textual.widgets import Input

    from tests.support.helpers import demo_app
    from vtui.ui.headless import settle
    from vtui.ui.screens.server import ServerScreen

    app = demo_app()
    with simulator("--model", QWEN, keep_log=False) as sim:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app)
            await app.switch_mode("server")
            await settle(app)
            assert isinstance(app.screen, ServerScreen)
            await pilot.press("A")
            await pilot.pause()
            box = app.screen.query_one(Input)
            box.value = sim.url
            await pilot.press("enter")
            for _ in range(50):
                await pilot.pause(0.1)
                if any(d.runtime == "endpoint" for d in app.backends.engine.list_deployments()):
                    break
            (attached,) = [
                d for d in app.backends.engine.list_deployments() if d.runtime == "endpoint"
            ]
            assert attached.model == QWEN and attached.base_url == sim.url
            said = " ".join(str(n.message) for n in app._notifications)
            assert f"Attached {attached.name}: done." in said


@pytest.mark.attack("terminal-escapes")
def test_a_hand_edited_attached_list_is_shown_harmless(tmp_path: Path) -> None:
    config = tmp_path / "config"
    listing = config / "state" / "vtui" / "attached.json"
    listing.parent.mkdir(parents=True)
    listing.write_text(json.dumps([{
        "id": "url-0011223344556677", "name": "lab\x1b]0;owned\x07", "url": "http://127.0.0.1:9",
        "key_env": None, "models": ["m\x1b[2J"],
    }]))  # fmt: skip
    ps = run_vtui("ps", config=config)
    assert "\x1b" not in ps.stdout + ps.stderr and "\x07" not in ps.stdout
    assert "lab\u241b]0;owned\u2407" in ps.stdout
