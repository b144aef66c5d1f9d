"""The vtui app: five screens, one key each, sharing the list of deployments."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from functools import partial
from importlib import import_module
from typing import ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input

from vtui.backends.endpoint import GivenEndpoint
from vtui.backends.registry import Backends
from vtui.core.deployments import active_deployment
from vtui.core.errors import BackendUnavailable
from vtui.core.gpu_history import GpuHistory
from vtui.core.records import Deployment, GpuSnapshot
from vtui.core.terminal_text import visible
from vtui.ui import textual_fixes
from vtui.ui.keys_seen import KeysSeen
from vtui.ui.messages import DeploymentsRead, GpusRead

# (mode, key, title, what the palette says about it)
SCREENS: tuple[tuple[str, str, str, str], ...] = (
    ("models", "1", "Models", "Search the Hub and pick a model to serve"),
    ("launch", "2", "Launch", "Set up how the model is served"),
    ("server", "3", "Server", "vLLM containers and their logs"),
    ("gpu", "4", "GPU", "Memory, load and processes of every GPU"),
    ("chat", "5", "Chat", "Talk to the running model"),
)
SCREENS_GROUP = Binding.Group("Screens", compact=True)
# Each second: a container killed from outside shows within two.
DEPLOYMENTS_POLL_SECONDS = 1.0
GPU_POLL_SECONDS = 1.0
# A remote host's GPUs cost a helper container each reading: read them less often.
REMOTE_GPU_SECONDS = 5.0
FREEZE_AFTER_S = 0.5


def freeze_startup_heap() -> None:
    """Leave what exists once the first screen is up out of Python's full garbage
    collections. Those walk every live object, and the app's own (imports, screens, widgets,
    style caches) made each one cost 0.2-1 s on a 2-core machine, a pause in the middle of a
    streaming reply or a key press; after this they walk only what came since."""
    gc.collect()
    gc.freeze()


def _lazy_screen(module: str, name: str) -> Callable[[], Screen[None]]:
    """A screen factory that imports its module on first visit, keeping start-up short."""

    def make() -> Screen[None]:
        screen_class: type[Screen[None]] = getattr(import_module(f"vtui.ui.screens.{module}"), name)
        return screen_class()

    return make


def _vtui_actions(node: object) -> set[str]:
    """The actions bound by vtui's own classes in node's ancestry."""
    actions = set()
    for cls in type(node).__mro__:
        if cls.__module__.startswith("vtui."):
            for entry in cls.__dict__.get("BINDINGS", ()):
                actions.add(entry.action if isinstance(entry, Binding) else entry[1])
    return actions


class VtuiApp(App[None]):
    CSS_PATH = "vtui.tcss"
    TITLE = "vtui"
    MODES: ClassVar[dict[str, Callable[[], Screen[None]]]] = {  # type: ignore[assignment]
        "launch": _lazy_screen("launch", "LaunchScreen"),
        "server": _lazy_screen("server", "ServerScreen"),
        "gpu": _lazy_screen("gpu", "GpuScreen"),
        "chat": _lazy_screen("chat", "ChatScreen"),
    }
    DEFAULT_MODE = "models"
    BINDINGS: ClassVar[list[BindingType]] = [
        # One footer entry, "12345 Screens", not five: with each screen's own keys the
        # footer ran past 120 columns. The top bar names the screen shown, the palette
        # finds one by name, and each key's tooltip names its screen.
        *(
            Binding(key, f"switch_mode('{mode}')", title, group=SCREENS_GROUP)
            for mode, key, title, _ in SCREENS
        ),
        Binding("q", "quit", "Quit"),
        # Ctrl+C and Ctrl+Q quit as q does: asking first when work would be lost.
        # Its own action name: typing in a field does not switch it off, as it does q.
        Binding("ctrl+c,ctrl+q", "quit_from_anywhere", "Quit", show=False),
        Binding("ctrl+g", "doctor", "Doctor", show=False),
    ]

    deployments_seen: reactive[int] = reactive(0)
    selected_model: reactive[str | None] = reactive(None)
    chosen_container: reactive[str | None] = reactive(None)
    gpus_seen: reactive[int] = reactive(0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a field has the focus, 1-5 and q are letters typed into it: the footer
        does not offer them then."""
        return not (action in ("switch_mode", "quit") and isinstance(self.focused, Input))

    async def action_quit_from_anywhere(self) -> None:
        await self.action_quit()

    async def action_quit(self) -> None:
        """Quits at once when nothing would be lost; otherwise asks, saying what."""
        lost = [words for ask in self.unfinished_work if (words := ask())]
        if not lost:
            self.exit()
            return
        from vtui.ui.widgets.dialogs import Confirm

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(Confirm(f"Quit vtui? {'; '.join(lost)}."), answered)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast is plain text: its words often quote outside text (a container's
        name, an engine's error, a path), which Textual would read as markup, crashing on
        an unmatched '[/...]'. vtui's own toasts use no markup."""
        super().notify(
            visible(message, newlines=True),
            title=title,
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def __init__(
        self,
        backends: Backends,
        *,
        live: bool = True,
        gpu_interval: float = GPU_POLL_SECONDS,
        given_endpoint: GivenEndpoint | None = None,
        start_mode: str | None = None,
    ) -> None:
        textual_fixes.apply()
        super().__init__()
        self.backends = backends
        # The chat talks to this endpoint instead of the chosen deployment (vtui chat --endpoint).
        self.given_endpoint = given_endpoint
        self.start_mode = start_mode
        # What the chat times replies with; tests give a clock that ticks evenly.
        self.clock: Callable[[], float] = time.monotonic
        self.demo = backends.demo
        # live: poll the backends on timers. Off for screenshots and snapshot tests, where every
        # screen reads its backends once so the picture is the same on every run.
        self.live = live
        self.deployments: list[Deployment] = []
        self.deployments_error: str | None = None
        self.silent_hosts: tuple[str, ...] = ()
        self.active_deployment: Deployment | None = None
        # A container just launched from here: the Server screen selects it when it appears.
        self.follow_container: str | None = None
        self._gpu_count: int | None = None
        # The latest GPU reading for every screen's strip and the GPU screen, read by one
        # worker every gpu_interval seconds.
        self.gpu_interval = gpu_interval
        self.gpu_snapshot: GpuSnapshot | None = None
        self.gpu_error: str | None = None
        # Whose GPUs the strip and the GPU screen show: this machine's, or a remote host's.
        self.gpu_host = "local"
        self.gpu_source = backends.gpu.label
        self._remote_gpus_at = float("-inf")
        self.gpu_history = GpuHistory()
        # What a screen would lose if vtui quit now, each asked in turn (a download under
        # way, a profile not saved, a conversation not saved): None when nothing.
        self.unfinished_work: list[Callable[[], str | None]] = []
        self._gpu_reading = False
        self.keys_seen = KeysSeen()

    async def on_event(self, event: events.Event) -> None:
        # Every key, before bindings or the focused widget take it; but Enter sends, and
        # the user then reads rather than types.
        if isinstance(event, events.Key):
            if event.key == "enter":
                self.keys_seen.sent()
            else:
                self.keys_seen.pressed()
        await super().on_event(event)

    def choose_deployment(self, container_id: str) -> None:
        """The one chosen on the Server screen: the header and the chat follow it."""
        if container_id != self.chosen_container:
            self.active_deployment = active_deployment(self.deployments, container_id)
            self.chosen_container = container_id

    @property
    def gpu_count(self) -> int:
        """GPUs on this machine, for the explainer's advice (1 when NVML cannot say).
        Read in a worker: it may wait on NVML."""
        if self._gpu_count is None:
            from vtui.services.host_checks import gpu_readings

            self._gpu_count = max(1, len(gpu_readings(self.backends.gpu)))
        return self._gpu_count

    def get_default_screen(self) -> Screen[None]:
        # The first screen comes through Textual's default-screen path: a MODES screen would
        # make Textual re-parse all CSS once more (~10 ms of start-up). It joins the modes in
        # on_mount, so switch_mode("models") returns to this same screen.
        return _lazy_screen("models", "ModelsScreen")()

    def on_mount(self) -> None:
        self.add_mode("models", _lazy_screen("models", "ModelsScreen"))
        if self.start_mode is not None:
            self.switch_mode(self.start_mode)
        # After the first frame: a worker thread running now would hold the GIL against it.
        self.call_after_refresh(self.read_deployments)
        self.call_after_refresh(self.poll_gpus)
        # Well after the first frame, which it would hold back by 30-40 ms.
        self.set_timer(FREEZE_AFTER_S, freeze_startup_heap)
        if self.live:
            self.set_interval(DEPLOYMENTS_POLL_SECONDS, self.read_deployments)
            self.set_interval(self.gpu_interval, self.poll_gpus)

    @work(thread=True, exclusive=True, group="deployments")
    def read_deployments(self) -> None:
        from vtui.services.hosts import survey

        try:
            deployments, states = survey(self.backends)
        except BackendUnavailable as exc:
            self.post_message(DeploymentsRead([], exc.reason))
            return
        local_error = states[0].error if states else None
        silent = tuple(
            f"{s.host.name}: {s.error or 'no answer yet'}" for s in states[1:] if not s.reachable
        )
        self.post_message(DeploymentsRead(deployments, local_error, silent))

    def on_deployments_read(self, message: DeploymentsRead) -> None:
        self.deployments = message.deployments
        self.deployments_error = message.error
        self.silent_hosts = message.silent_hosts
        self.active_deployment = active_deployment(message.deployments, self.chosen_container)
        self.deployments_seen += 1

    def poll_gpus(self) -> None:
        # A GPU that is falling off the bus can hold an NVML call for seconds: skip a turn
        # rather than pile up threads waiting on it.
        if self._gpu_reading:
            return
        if self.gpu_host != "local":
            if time.monotonic() - self._remote_gpus_at < REMOTE_GPU_SECONDS:
                return
            self._remote_gpus_at = time.monotonic()
        self._gpu_reading = True
        self.read_gpus(self.gpu_host)

    def show_gpus_of(self, host: str) -> None:
        """The strip and the GPU screen show this host's GPUs from the next reading on."""
        if host == self.gpu_host:
            return
        self.gpu_host = host
        self.gpu_snapshot, self.gpu_error = None, None
        self.gpu_history = GpuHistory()
        self._remote_gpus_at = float("-inf")
        self.gpus_seen += 1
        self._gpu_reading = False
        self.poll_gpus()

    @work(thread=True, group="gpus")
    def read_gpus(self, host: str = "local") -> None:
        from vtui.services.gpu_feed import read_host_gpus

        try:
            snapshot, source = read_host_gpus(self.backends, host, self.deployments)
            self.post_message(GpusRead(snapshot, None, host, source))
        except BackendUnavailable as exc:
            self.post_message(GpusRead(None, exc.reason, host))
        except Exception as exc:  # a GPU reading never takes the app down; the next one retries
            self.post_message(GpusRead(None, f"reading the GPUs failed: {exc!r}", host))

    def on_gpus_read(self, message: GpusRead) -> None:
        self._gpu_reading = False
        if message.host != self.gpu_host:
            return  # a reading of the host shown before the switch
        self.gpu_source = message.source or self.gpu_source
        self.gpu_snapshot = message.snapshot
        self.gpu_error = message.error
        if message.snapshot is not None:
            self.gpu_history.add(message.snapshot)
            self._gpu_count = max(1, len(message.snapshot.gpus))
        else:
            self.gpu_history.add_gap()
        self.gpus_seen += 1

    def _screen_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every key of the screen the palette opened on, by its name, with the key beside
        it: "stop", "restart", "load test" are found by typing them."""
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            words = binding.description
            if not words or binding.group is SCREENS_GROUP or active.node is self:
                continue
            # A widget's own cursor and editing keys (a table's, a text field's) are
            # Textual's, not commands: only keys vtui's classes bind are listed.
            if isinstance(active.node, Input) or binding.action not in _vtui_actions(active.node):
                continue
            if words in seen or not active.enabled:
                continue
            seen.add(words)
            shown = self.get_key_display(binding)
            yield SystemCommand(
                f"{words} ({shown})",
                binding.tooltip or f"{words}, on this screen (key {shown})",
                partial(self.run_action, binding.action, active.node),
            )

    def action_doctor(self) -> None:
        from vtui.ui.widgets.doctor_panel import DoctorPanel

        if not isinstance(self.screen, DoctorPanel):
            self.push_screen(DoctorPanel(self.backends))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for mode, key, title, help_text in SCREENS:
            yield SystemCommand(
                f"{title} screen ({key})", help_text, lambda mode=mode: self.switch_mode(mode)
            )
        yield from self._screen_commands(screen)
        yield SystemCommand(
            "Doctor (^g)",
            "check Docker, the NVIDIA runtime, the GPUs, disk, the Hub and the port, "
            "each with its fix",
            self.action_doctor,
        )
        yield from super().get_system_commands(screen)

    def on_unmount(self) -> None:
        self.backends.gpu.close()
