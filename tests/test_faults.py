"""Bad days that no other test file owns: a container the kernel kills for memory, a
terminal squeezed to 40x12, a profile file broken by hand. vtui says what happened and
loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from textual.geometry import Region
from textual.widget import Widget

from tests.support.engine_helpers import following, sim_request
from tests.support.helpers import demo_app, free_port
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.backends.files.profile_store import ProfileStore
from vtui.core.records import ContainerState, Deployment, RunRequest
from vtui.core.startup import Phase
from vtui.sim.demo_world import DEMO_PROFILE, demo_profile
from vtui.ui.headless import settle
from vtui.ui.screens.launch import LaunchScreen
from vtui.ui.widgets.long_markdown import LongMarkdown
from vtui.ui.widgets.top_bar import TopBar


@pytest.mark.engine
@pytest.mark.fault("container-oom")
def test_a_server_the_kernel_kills_for_memory_is_named_as_such(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment]
) -> None:
    import docker

    # The simulator holds 256 MiB while its weights load; the container may have 48.
    request = sim_request(free_port(), "Qwen/Qwen2.5-7B-Instruct", "--sim-host-memory-mib", "256")
    command = list(request.command)
    command[command.index("--sim-startup-seconds") + 1] = "4"  # time to lower the limit
    deployment = launched(replace(request, command=tuple(command)))
    docker.from_env().api.update_container(
        deployment.container_id, mem_limit="48m", memswap_limit="48m"
    )
    with following(docker_engine, deployment) as follower:
        crashed = follower.wait_for("the OOM kill", lambda u: u.phase is Phase.CRASHED, 30)
    assert crashed.progress == "crashed (exit 137, killed: out of memory)"
    assert crashed.deployment is not None
    assert crashed.deployment.state == ContainerState.EXITED
    assert any("Loading weights took" in line for line in follower.lines)  # the log is kept


def shown(widget: Widget) -> str:
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


@pytest.mark.fault("tiny-terminal")
async def test_every_screen_survives_a_squeeze_to_40x12_and_grows_back() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.press("escape")  # out of the search box, to the screen keys
        for key, name in (("1", "Models"), ("2", "Launch"), ("3", "Server"), ("4", "GPU")):
            await pilot.press(key)
            await settle(app)
            await pilot.resize_terminal(40, 12)
            await settle(app)
            assert app.size == (40, 12)
            assert f"vtui \u203a {name}" in shown(app.screen.query_one(TopBar))
            await pilot.resize_terminal(120, 40)
            await settle(app)
        # A reply streamed while squeezed arrives whole, and the chat reads normally after.
        await pilot.press("5")
        await settle(app)
        await pilot.resize_terminal(40, 12)
        await pilot.press(*"what is 2+2", "enter")
        await settle(app)
        await pilot.resize_terminal(120, 40)
        await settle(app)
        answer = app.screen.query(".chat-answer").last(LongMarkdown)
        assert "You asked: \u201cwhat is 2+2\u201d" in answer.source
        assert app.is_running and app.return_code is None


@pytest.mark.fault("corrupt-profile")
async def test_a_profile_broken_by_hand_is_named_and_never_overwritten() -> None:
    app = demo_app()
    store = ProfileStore(app.backends.places.config)
    store.create(demo_profile())
    broken = store.path("broken")
    broken.write_text('model = "Qwen/Qwen3-8B"\n[args\ngpu-memory-utilization = 0.9\n')
    before = broken.read_bytes()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.press("escape", "2")
        await settle(app)
        await settle(app)
        assert isinstance(app.screen, LaunchScreen)
        said = " ".join(str(n.message) for n in app._notifications)
        assert "broken.toml" in said and "line 2" in said
        # The good profile is still there to edit and launch.
        assert app.screen.spec is not None and app.screen.spec.name == DEMO_PROFILE
        await pilot.press("ctrl+s")
        await settle(app)
    assert broken.read_bytes() == before
    assert store.names() == ["broken", DEMO_PROFILE]
