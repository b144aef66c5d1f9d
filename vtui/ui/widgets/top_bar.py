"""The line at the top of every screen: where you are, what is deployed, and the DEMO badge."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from vtui.core.records import ContainerState, Deployment

STATE_STYLE = {
    ContainerState.RUNNING: "bold green",
    ContainerState.STARTING: "bold yellow",
    ContainerState.UNHEALTHY: "bold red",
    ContainerState.EXITED: "red",
    ContainerState.DEAD: "bold red",
}


def deployment_text(deployment: Deployment | None, error: str | None) -> Text:
    if error:
        return Text.assemble(("engine unavailable", "bold red"), f"  {error}")
    if deployment is None:
        return Text("no deployment yet", style="dim")
    state = deployment.state.value
    if deployment.state == ContainerState.EXITED and deployment.exit_code:
        state = f"exited ({deployment.exit_code})"
    return Text.assemble(
        ("\u25cf ", STATE_STYLE.get(deployment.state, "")),
        (deployment.name, "bold"),
        "  ",
        (state, STATE_STYLE.get(deployment.state, "")),
        "  ",
        (deployment.address, "cyan"),
        "  ",
        (deployment.model, "dim"),
    )


class TopBar(Horizontal):
    def __init__(self, screen_title: str) -> None:
        super().__init__(id="top-bar")
        self.screen_title = screen_title

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("vtui", "bold"), " \u203a ", self.screen_title), id="top-title")
        yield Static(id="top-deployment")
        if getattr(self.app, "demo", False):
            yield Static(" DEMO ", id="demo-badge")

    def on_mount(self) -> None:
        self.watch(self.app, "deployments_seen", self._refresh, init=True)

    def _refresh(self, _seen: int) -> None:
        app = self.app
        self.query_one("#top-deployment", Static).update(
            deployment_text(
                getattr(app, "active_deployment", None), getattr(app, "deployments_error", None)
            )
        )
