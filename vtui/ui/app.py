"""The vtui app: five screens, one key each, sharing the list of deployments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from vtui.backends.registry import Backends
from vtui.core.deployments import active_deployment
from vtui.core.records import BackendUnavailable, Deployment
from vtui.ui.messages import DeploymentsRead
from vtui.ui.screens.chat import ChatScreen
from vtui.ui.screens.gpu import GpuScreen
from vtui.ui.screens.launch import LaunchScreen
from vtui.ui.screens.models import ModelsScreen
from vtui.ui.screens.server import ServerScreen

# (mode, key, title, what the palette says about it)
SCREENS: tuple[tuple[str, str, str, str], ...] = (
    ("models", "1", "Models", "Search the Hub and pick a model to serve"),
    ("launch", "2", "Launch", "Set up how the model is served"),
    ("server", "3", "Server", "vLLM containers and their logs"),
    ("gpu", "4", "GPU", "Memory, load and processes of every GPU"),
    ("chat", "5", "Chat", "Talk to the running model"),
)
DEPLOYMENTS_POLL_SECONDS = 2.0


class VtuiApp(App[None]):
    CSS_PATH = "vtui.tcss"
    TITLE = "vtui"
    MODES: ClassVar[dict[str, type[Screen[None]]]] = {  # type: ignore[assignment]
        "models": ModelsScreen,
        "launch": LaunchScreen,
        "server": ServerScreen,
        "gpu": GpuScreen,
        "chat": ChatScreen,
    }
    DEFAULT_MODE = "models"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"switch_mode('{mode}')", title) for mode, key, title, _ in SCREENS),
        Binding("q", "quit", "Quit"),
    ]

    deployments_seen: reactive[int] = reactive(0)
    selected_model: reactive[str | None] = reactive(None)

    def __init__(self, backends: Backends, *, live: bool = True) -> None:
        super().__init__()
        self.backends = backends
        self.demo = backends.demo
        # live: poll the backends on timers. Off for screenshots and snapshot tests, where every
        # screen reads its backends once so the picture is the same on every run.
        self.live = live
        self.deployments: list[Deployment] = []
        self.deployments_error: str | None = None
        self.active_deployment: Deployment | None = None

    def on_mount(self) -> None:
        self.read_deployments()
        if self.live:
            self.set_interval(DEPLOYMENTS_POLL_SECONDS, self.read_deployments)

    @work(thread=True, exclusive=True, group="deployments")
    def read_deployments(self) -> None:
        try:
            self.post_message(DeploymentsRead(self.backends.engine.list_deployments(), None))
        except BackendUnavailable as exc:
            self.post_message(DeploymentsRead([], exc.reason))

    def on_deployments_read(self, message: DeploymentsRead) -> None:
        self.deployments = message.deployments
        self.deployments_error = message.error
        self.active_deployment = active_deployment(message.deployments)
        self.deployments_seen += 1

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for mode, key, title, help_text in SCREENS:
            yield SystemCommand(
                f"{title} screen ({key})", help_text, lambda mode=mode: self.switch_mode(mode)
            )
        yield from super().get_system_commands(screen)

    def on_unmount(self) -> None:
        self.backends.gpu.close()
