"""The Launch screen: edit a profile, see problems beside their fields, save, write, launch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import Input, Label, Static

from tests.support.helpers import demo_app
from tests.support.screens import open_launch, shown, type_into
from vtui.backends.files.profile_store import ProfileStore
from vtui.core.records import ContainerState
from vtui.sim.demo_world import DEMO_PROFILE, demo_profile
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.launch import LaunchScreen
from vtui.ui.screens.server import ServerScreen
from vtui.ui.widgets.arg_field import ArgField
from vtui.ui.widgets.dialogs import Confirm


async def new_profile(app: VtuiApp, pilot: Any, name: str) -> None:
    """Ctrl+N, as a user starts one: the form then holds a fresh profile called `name`."""
    await pilot.press("ctrl+n")
    await pilot.pause()
    await pilot.press(*name, "enter")
    await settle(app)


def field_problem(app: VtuiApp, field_id: str) -> str:
    return str(app.screen.query_one(f"#field-{field_id} .arg-problem", Static).render())


async def test_the_demo_profile_fills_the_form_and_the_preview() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        assert screen.spec is not None and screen.spec.name == DEMO_PROFILE
        model = app.screen.query_one("#field-model Input", Input).value
        assert model == "Qwen/Qwen2.5-7B-Instruct"
        preview = shown(screen.query_one("#compose-preview", Static))
        assert 'container_name: "vtui-qwen2.5-7b-instruct"' in preview
        assert '- "127.0.0.1:8000:8000"' in preview
        # Its container runs: the status says so (and how to restart it), not "ready".
        status = shown(app.screen.query_one("#launch-status"))
        assert "running as vtui-qwen2.5-7b-instruct" in status and "ready" not in status


@pytest.mark.input_check("form-fields")
async def test_a_bad_value_is_named_beside_its_field_and_clears_when_fixed() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        await type_into(app, pilot, "gpu-memory-utilization", "1.5")
        assert "at most 1" in field_problem(app, "gpu-memory-utilization")
        assert "1 problem to fix" in shown(app.screen.query_one("#launch-status"))
        await pilot.press("ctrl+r")
        await settle(app)
        assert len(screen.vtui.deployments) == 1  # nothing launched
        await type_into(app, pilot, "gpu-memory-utilization", "0.85")
        assert field_problem(app, "gpu-memory-utilization") == ""
        assert screen.spec is not None
        assert screen.spec.args["--gpu-memory-utilization"] == 0.85


async def test_unknown_extra_arguments_get_the_nearest_flag() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await type_into(app, pilot, "extra", "--max-num-seq 8")
        assert "did you mean --max-num-seqs?" in field_problem(app, "extra")


async def test_save_writes_the_edit_to_the_profile_file() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await type_into(app, pilot, "max-model-len", "16k")
        await pilot.press("ctrl+s")
        await settle(app)
        store = ProfileStore(app.backends.places.config)
        assert store.load(DEMO_PROFILE).args["--max-model-len"] == 16000
        assert "saved" in shown(app.screen.query_one("#launch-status"))


async def test_launch_starts_a_container_and_opens_the_server_screen() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await new_profile(app, pilot, "phi")
        await type_into(app, pilot, "model", "microsoft/Phi-4-mini-instruct")
        await type_into(app, pilot, "port", "8010")
        await pilot.press("ctrl+r")
        await settle(app)
        await settle(app)
        assert isinstance(app.screen, ServerScreen)
        phi = [d for d in app.backends.engine.list_deployments() if d.name == "vtui-phi"]
        assert phi and phi[0].port == 8010 and phi[0].state == ContainerState.STARTING
        assert "Log of vtui-phi" in shown(app.screen.query_one("#log-title"))
        assert ProfileStore(app.backends.places.config).names() == ["phi", DEMO_PROFILE]


async def test_launching_over_its_running_container_asks_and_no_leaves_it_alone() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        before = [(d.name, d.container_id) for d in app.backends.engine.list_deployments()]
        await pilot.press("ctrl+r")
        await settle(app)
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await settle(app)
        assert isinstance(app.screen, LaunchScreen)
        after = [(d.name, d.container_id) for d in app.backends.engine.list_deployments()]
        assert after == before
        assert not any("Launch failed" in str(n.message) for n in app._notifications)


async def test_write_compose_writes_the_file_and_a_private_env(tmp_path: Path) -> None:
    app = demo_app()
    target = tmp_path / "docker-compose.yml"
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        dialog_input = app.screen.query_one(Input)
        dialog_input.value = str(target)
        await pilot.press("enter")
        await settle(app)
    service = yaml.safe_load(target.read_text())["services"]["vllm"]
    assert service["container_name"] == "vtui-qwen2.5-7b-instruct"
    assert (tmp_path / ".env").read_text().startswith("VLLM_API_KEY=")
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600


async def test_a_port_held_by_another_container_is_a_warning_under_the_port() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        assert field_problem(app, "port") == ""  # the demo profile's own container holds it
        await new_profile(app, pilot, "other")
        await settle(app)
        assert "8000 is already in use" in field_problem(app, "port")
        assert screen.query_one("#field-port", ArgField).has_class("-warning")
        status = shown(app.screen.query_one("#launch-status"))
        # What blocks is said as blocking, with the reason; the compose file still works.
        assert "cannot launch now:" in status and "8000" in status
        assert "Ctrl+O still writes" in status
        await pilot.press("ctrl+r")
        await settle(app)
        assert isinstance(app.screen, LaunchScreen)  # a taken port stops a launch from here
        assert [d.name for d in app.backends.engine.list_deployments()] == [
            "vtui-qwen2.5-7b-instruct"
        ]


async def test_a_hand_edited_odd_key_is_reported_not_fatal() -> None:
    app = demo_app()
    store = ProfileStore(app.backends.places.config)
    store.create(demo_profile())
    path = store.path(DEMO_PROFILE)
    path.write_text(path.read_text() + '"a:b" = 1\n')
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        status = shown(app.screen.query_one("#launch-status"))
        assert "--a:b: not a vLLM argument" in status


@pytest.mark.security("open-host-caution")
async def test_an_open_host_is_cautioned_in_yellow_and_still_launches() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await new_profile(app, pilot, "open")
        await type_into(app, pilot, "model", "microsoft/Phi-4-mini-instruct")
        await type_into(app, pilot, "port", "8011")
        await type_into(app, pilot, "host", "0.0.0.0")
        assert "publishes the server beyond this machine" in field_problem(app, "host")
        assert app.screen.query_one("#field-host", ArgField).has_class("-warning")
        assert "ready to launch · 1 caution " in shown(app.screen.query_one("#launch-status"))
        await pilot.press("ctrl+r")
        await settle(app)
        await settle(app)
        assert isinstance(app.screen, ServerScreen)  # a caution informs, it does not stop
        opened = [d for d in app.backends.engine.list_deployments() if d.name == "vtui-open"]
        assert opened and opened[0].port == 8011


async def test_quitting_with_a_profile_changed_and_not_saved_asks_first() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await type_into(app, pilot, "gpu-memory-utilization", "0.5")
        app.set_focus(None)  # out of the form, as a user who is done typing
        await pilot.press("q")
        await settle(app)
        assert isinstance(app.screen, Confirm)
        assert "has changes not saved" in str(app.screen.query_one(Label).render())
        await pilot.press("y")
        await settle(app)
        assert app.return_code == 0


async def test_a_running_profile_says_running_and_ctrl_r_restarts_it_after_asking() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await settle(app)
        status = shown(app.screen.query_one("#launch-status"))
        assert "running as vtui-qwen2.5-7b-instruct" in status and "Ctrl+R restarts" in status
        before = {d.name: d for d in app.backends.engine.list_deployments()}
        await pilot.press("ctrl+r")
        await settle(app)
        assert isinstance(app.screen, Confirm)
        assert "Restart vtui-qwen2.5-7b-instruct" in app.screen.question
        await pilot.press("y")
        await settle(app)
        await settle(app)
        after = {d.name: d for d in app.backends.engine.list_deployments()}
        name = "vtui-qwen2.5-7b-instruct"
        assert after[name].live and after[name].container_id != before[name].container_id


async def test_ctrl_e_previews_each_export_validated_and_w_writes_it() -> None:
    from vtui.ui.widgets.export_dialog import ExportDialog

    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        await pilot.press("ctrl+e")
        await settle(app)
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        checked = shown(dialog.query_one("#export-checked", Label))
        assert "Validated against the Kubernetes 1.33 OpenAPI schemas" in checked
        assert "kind: Deployment" in shown(dialog.query_one("#export-text", Static))
        await pilot.press("right")  # k8s -> helm
        await settle(app)
        assert dialog.target == "helm"
        assert "modelSpec:" in shown(dialog.query_one("#export-text", Static))
        await pilot.press("w")
        await settle(app)
        written = app.backends.places.output / "qwen2-5-7b-helm.yaml"
        assert written.is_file() and "modelURL: Qwen/Qwen2.5-7B-Instruct" in written.read_text()
        await pilot.press("w")  # a second write never replaces the first
        await settle(app)
        told = " ".join(str(n.message) for n in app._notifications)
        assert f"Wrote {written}" in told and "exists; vtui does not overwrite it" in told
        await pilot.press("escape")
        await settle(app)
        assert isinstance(app.screen, LaunchScreen)


async def test_a_profile_over_two_hosts_previews_each_node_s_command() -> None:
    from dataclasses import replace

    from vtui.backends.registry import demo_backends

    app = VtuiApp(demo_backends(7, remote_hosts=1), live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        assert screen.spec is not None
        big = replace(
            screen.spec, name="big", container_name="", worker_hosts=("gpu-2",),
            head_address="10.0.0.1", args={**screen.spec.args, "--pipeline-parallel-size": 2},
        )  # fmt: skip
        await screen.show_spec(big, saved=False)
        await settle(app)
        preview = shown(screen.query_one("#compose-preview", Static))
        assert "# head on local: serves once every node joined" in preview
        assert "# worker-1 on gpu-2: joins the head" in preview
        assert "services:" not in preview  # no compose file that would start one node
