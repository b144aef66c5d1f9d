"""The line at the top of every screen: where you are, what is deployed, and the DEMO badge.

One widget drawing a grid, not a row of widgets: it sits on every screen, and each widget
in the first frame costs start-up time.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from vtui.core.records import ContainerState, Deployment

STATE_STYLE = {
    ContainerState.RUNNING: "bold green",
    ContainerState.STARTING: "bold yellow",
    ContainerState.UNHEALTHY: "bold red",
    ContainerState.EXITED: "red",
    ContainerState.DEAD: "bold red",
}
DEMO_BADGE = Text(" DEMO ", style="bold black on dark_orange")


def state_text(deployment: Deployment) -> str:
    if deployment.state == ContainerState.EXITED and deployment.exit_code:
        return f"exited ({deployment.exit_code})"
    return deployment.state.value


def deployment_text(
    deployment: Deployment | None, error: str | None, width: int | None = None
) -> Text:
    """The deployment's name, state, address and model, as many of them whole as width
    holds (a model cut to "Qwe..." told nothing); an error is cut at the end, if it must."""
    if error:
        return Text.assemble(("engine unavailable", "bold red"), f"  {error}")
    if deployment is None:
        return Text("no deployment yet", style="dim")
    style = STATE_STYLE.get(deployment.state, "")
    # host/container for a remote host's: the same name may run on several.
    remote = deployment.engine_host != "local"
    name = f"{deployment.engine_host}/{deployment.name}" if remote else deployment.name
    line = Text.assemble(("\u25cf ", style), (name, "bold"))
    rest = [
        (state_text(deployment), style),
        (deployment.address, "cyan"),
        (deployment.model, "dim"),
    ]
    for text, part_style in rest:
        if width is not None and line.cell_len + 2 + len(text) > width:
            break
        line.append("  ")
        line.append(text, part_style)
    return line


class TopBar(Widget):
    def __init__(self, screen_title: str) -> None:
        super().__init__(id="top-bar")
        self.screen_title = screen_title

    def on_mount(self) -> None:
        self.watch(self.app, "deployments_seen", self._deployments_changed, init=False)
        self.watch(self.app, "chosen_container", self._deployments_changed, init=False)

    def _deployments_changed(self, _changed: object) -> None:
        self.refresh()

    @property
    def deployment_line(self) -> Text:
        return self._deployment_line(None)

    def _deployment_line(self, width: int | None) -> Text:
        app = self.app
        return deployment_text(
            getattr(app, "active_deployment", None),
            getattr(app, "deployments_error", None),
            width,
        )

    def render(self) -> RenderableType:
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        title = Text.assemble(" ", ("vtui", "bold"), " \u203a ", self.screen_title, " ")
        title.stylize(f"on {self.app.current_theme.primary}")
        demo = getattr(self.app, "demo", False)
        # The grid's padding: one cell between columns.
        room = self.size.width - title.cell_len - 1 - (DEMO_BADGE.cell_len + 1 if demo else 0)
        cells: list[RenderableType] = [title, self._deployment_line(max(room, 0))]
        if demo:
            grid.add_column(no_wrap=True)
            cells.append(DEMO_BADGE)
        grid.add_row(*cells)
        return grid
