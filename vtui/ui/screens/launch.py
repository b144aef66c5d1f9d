"""Launch: the profile's form (vLLM's own arguments), checked as you type, with its compose file."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Select, Static

from vtui.core import units
from vtui.core.errors import ProfileError
from vtui.core.fit_launch import gpu_memory
from vtui.core.launch_checks import HostFacts, ModelFacts, Problem, check
from vtui.core.launch_form import FormField, form_groups, spec_from_texts, texts_from_spec
from vtui.core.launch_spec import LaunchSpec
from vtui.core.multinode import node_commands
from vtui.core.records import Deployment, GpuReading, ModelCheckpoint
from vtui.core.renderings import render_compose, render_vllm_serve
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.arg_field import ArgField
from vtui.ui.widgets.dialogs import AskText, Confirm
from vtui.ui.widgets.fit_bar import FitBar

if TYPE_CHECKING:
    from vtui.backends.files.profile_store import ProfileStore
    from vtui.core.calibration import StartRecord

FIT_DEBOUNCE_S = 0.4
NARROW = 100  # below this width the compose preview gives its room to the form
FIELD_HELP_HINT = (
    "Move through the fields (Tab): vLLM's own help for each shows here. Empty fields "
    "leave the choice to vLLM.\nCtrl+S save \u00b7 Ctrl+R launch \u00b7 Ctrl+O write compose "
    "\u00b7 Ctrl+E export \u00b7 Ctrl+N new \u00b7 Ctrl+D duplicate \u00b7 Ctrl+X delete"
)


class LaunchScreen(VtuiScreen):
    SCREEN_TITLE = "Launch"
    MAIN_WIDGET = "#launch-form"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "launch", "Launch"),
        Binding("ctrl+o", "write_compose", "Write compose"),
        Binding("ctrl+e", "export", "Export", show=False),
        Binding("ctrl+n", "new_profile", "New"),
        Binding("ctrl+f", "apply_fix", "Apply fit fix"),
        Binding("ctrl+t", "probe", "Probe"),
        Binding("ctrl+d", "duplicate", "Duplicate", show=False),
        Binding("ctrl+x", "delete", "Delete", show=False),
    ]

    class Loaded(Message):
        def __init__(
            self, names: list[str], spec: LaunchSpec | None, saved: bool, error: str | None
        ) -> None:
            super().__init__()
            self.names, self.spec, self.saved, self.error = names, spec, saved, error

    class FactsRead(Message):
        def __init__(
            self, facts: HostFacts, model: ModelFacts | None, gpus: tuple[GpuReading, ...]
        ) -> None:
            super().__init__()
            self.facts, self.model, self.gpus = facts, model, gpus

    class FitInputsRead(Message):
        """The model's config and tensor sizes, or why they could not be read."""

        def __init__(
            self,
            model: str,
            checkpoint: ModelCheckpoint | None,
            error: str | None,
            learned: tuple[StartRecord, ...] = (),
        ):
            super().__init__()
            self.model, self.checkpoint, self.error = model, checkpoint, error
            self.learned = learned

    class Probed(Message):
        """A probe ended: vLLM's figures beside the estimate, or why there are none."""

        def __init__(self, profile: str, words: str, failed: bool) -> None:
            super().__init__()
            self.profile, self.words, self.failed = profile, words, failed

    def __init__(self) -> None:
        super().__init__()
        self.base: LaunchSpec | None = None
        self.spec: LaunchSpec | None = None
        self.texts: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.unreadable: list[Problem] = []
        self._previewed = False
        self.saved = False
        self.names: list[str] = []
        self.facts = HostFacts()
        self.model_facts: ModelFacts | None = None
        self._store: ProfileStore | None = None
        self.checkpoint: ModelCheckpoint | None = None
        self.checkpoint_model: str | None = None
        self.checkpoint_error: str | None = None
        self.gpus: tuple[GpuReading, ...] = ()
        self.learned: tuple[StartRecord, ...] = ()
        self.probe_result: str | None = None
        # Set when the screen goes: a probe still running stops and removes its container.
        self._probe_stop = threading.Event()

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="launch-main"):
            with Vertical(id="launch-left"):
                with Horizontal(id="profile-bar"):
                    yield Static("profile", classes="arg-label")
                    yield Select[str](
                        [], id="profile-select", allow_blank=True, compact=True, prompt="(loading)"
                    )
                yield Static(id="launch-status", classes="status")
                yield FitBar(id="fit-bar")
                yield VerticalScroll(id="launch-form")
            with Vertical(id="launch-side"):
                yield Static(FIELD_HELP_HINT, id="field-help")
                with VerticalScroll(id="compose-scroll"):
                    yield Static(id="compose-preview")

    def on_unmount(self) -> None:
        self._probe_stop.set()

    def data_drawn(self) -> bool:
        bar = self.query_one(FitBar)
        return self.spec is None or bar.fit is not None or bar.why_not is not None

    def unfinished(self) -> str | None:
        if self._launching:
            return "a launch is under way (the container may be left half made)"
        spec = self.spec
        if spec is None or (self.saved and spec == self.base):
            return None
        return f"the profile {spec.name} has changes not saved (Ctrl+S saves them)"

    def on_mount(self) -> None:
        self._launching = False
        self.vtui.unfinished_work.append(self.unfinished)
        self.load_profile(None)
        self.watch(self.vtui, "selected_model", self._model_picked, init=False)
        self._loose: list[Problem] = []
        # "running as ..." follows the containers as the app reads them.
        self.watch(self.vtui, "deployments_seen", self._deployments_changed, init=False)

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    # -- loading and facts (workers) ----------------------------------------------------------

    def store(self) -> ProfileStore:
        if self._store is None:
            self._store = self.vtui.backends.profiles()
        return self._store

    @work(thread=True, exclusive=True, group="launch-profiles")
    def load_profile(self, name: str | None) -> None:
        try:
            store = self.store()
            names = store.names()
        except ProfileError as exc:
            self.post_message(self.Loaded([], None, False, str(exc)))
            return
        # Asked for one: that one. Otherwise the first that reads; a file broken by hand is
        # named and left as it is, and the others stay usable.
        errors: list[str] = []
        for wanted in [name] if name else names:
            try:
                spec = store.load(wanted)
            except ProfileError as exc:
                errors.append(str(exc))
                continue
            self.post_message(self.Loaded(names, spec, True, "\n".join(errors) or None))
            return
        self.post_message(self.Loaded(names, None, False, "\n".join(errors) or None))

    @work(thread=True, exclusive=True, group="launch-facts")
    def read_facts(self) -> None:
        from vtui.services.host_checks import read_host

        spec = self.spec
        if spec is None:
            return
        # One snapshot serves the checks (GPU count, capability) and the fit (memory).
        reading = read_host(self.vtui.backends, spec, self.vtui.deployments)
        self.post_message(self.FactsRead(reading.facts, reading.model, reading.gpus))

    @work(thread=True, exclusive=True, group="launch-fit")
    def read_fit_inputs(self, model: str, hf_cache: str) -> None:
        from textual.worker import get_current_worker

        from vtui.services.fitting import FitUnknown, find_model, learned

        # Typing a model id edits it a letter at a time: wait until the typing stops.
        time.sleep(FIT_DEBOUNCE_S)
        if get_current_worker().is_cancelled or not model.strip():
            return
        try:
            found = find_model(self.vtui.backends, model)
            past = learned(self.vtui.backends).records
            self.post_message(self.FitInputsRead(model, found, None, past))
        except FitUnknown as exc:
            self.post_message(self.FitInputsRead(model, None, str(exc)))

    def on_launch_screen_fit_inputs_read(self, message: FitInputsRead) -> None:
        self.checkpoint_model = message.model
        self.checkpoint, self.checkpoint_error = message.checkpoint, message.error
        self.learned = message.learned
        self.refit()

    def refit(self) -> None:
        """Recompute the fit from what is already read: pure arithmetic, no I/O."""
        bar = self.query_one(FitBar)
        spec = self.spec
        if spec is None or self.checkpoint_model != spec.model:
            bar.show(None)
            return
        if self.checkpoint is None:
            bar.show(None, f"cannot read the model ({self.checkpoint_error})")
            return
        memory = gpu_memory(spec, self.gpus)
        if memory is None:
            bar.show(None, "no GPU readings here, so no fit to show (see `vtui estimate --help`)")
            return
        from vtui.services.fitting import FitUnknown, fit_of

        try:
            # Memory other processes hold counts: vLLM refuses to start without its share.
            bar.show(
                fit_of(spec, self.checkpoint, memory, check_free=True, learned=self.learned),
                measured=self.probe_result,
            )
        except FitUnknown as exc:
            bar.show(None, f"unknown: {exc}")

    def action_apply_fix(self) -> None:
        fit = self.query_one(FitBar).fit
        if fit is None or not fit.fixes:
            if fit is not None and not fit.fits and fit.advice:
                # Nothing this form can set makes it fit; say what would.
                self.notify(" · ".join(fit.advice[1:] or fit.advice), title="Fit: no setting here")
                return
            self.notify("Nothing to fix: no fit estimate suggests a change.", title="Fit")
            return
        fix = fit.fixes[0]
        field = self.query(f"#field-{fix.flag.lstrip('-')}").first(ArgField)
        field.set_text(str(fix.value))
        self.notify(f"Set {fix.flag} {fix.value}", title="Fit")

    def action_probe(self) -> None:
        spec = self._ready("probe", launching=False)
        if spec is None:
            return
        self.query_one("#launch-status", Static).update(
            Text(f"probing {spec.name} with vLLM itself (dummy weights)...", style="yellow")
        )
        self.probe(spec)

    @work(thread=True, exclusive=True, group="launch-probe")
    def probe(self, spec: LaunchSpec) -> None:
        from vtui.services.probing import ProbeFailed, describe, probe

        def progress(words: str) -> None:
            self.app.call_from_thread(
                self.query_one("#launch-status", Static).update,
                Text(f"probe: {words}", style="yellow"),
            )

        try:
            self.store().put(spec)
            result = probe(
                self.vtui.backends, spec.name, on_progress=progress, stop=self._probe_stop
            )
        except ProbeFailed as exc:
            self.post_message(self.Probed(spec.name, str(exc), failed=True))
            return
        except OSError as exc:
            self.post_message(self.Probed(spec.name, f"cannot save: {exc}", failed=True))
            return
        self.post_message(self.Probed(spec.name, describe(result), failed=result.measured is None))

    def on_launch_screen_probed(self, message: Probed) -> None:
        self.saved = True
        self.probe_result = message.words
        style = "red" if message.failed else "green"
        self.query_one("#launch-status", Static).update(
            Text(f"probe of {message.profile}: {message.words}", style=style)
        )
        if not message.failed and self.spec is not None:
            self.checkpoint_model = None  # read again: the probe's figures are now learned
            self.read_fit_inputs(self.spec.model, self.spec.hf_cache)

    def on_launch_screen_facts_read(self, message: FactsRead) -> None:
        self.facts, self.model_facts, self.gpus = message.facts, message.model, message.gpus
        self.recheck()
        spec = self.spec
        if spec is not None and spec.model != self.checkpoint_model:
            self.read_fit_inputs(spec.model, spec.hf_cache)

    async def on_launch_screen_loaded(self, message: Loaded) -> None:
        self.names = message.names
        if message.error:
            self.query_one("#launch-status", Static).update(
                Text(f"Cannot read the profile: {message.error}", style="bold red")
            )
            self.notify(
                f"{message.error}\nThe file is left as it is: fix it by hand.",
                title="Cannot read a profile",
                severity="error",
                timeout=20,
            )
        spec = message.spec
        picked = self.vtui.selected_model
        if (message.error is None or spec is not None) and (
            spec is None or (picked and picked != spec.model)
        ):
            await self._offer_new(picked)
        elif spec is not None:
            await self.show_spec(spec, saved=message.saved)

    async def _offer_new(self, model: str | None) -> None:
        """A new, unsaved profile for the model picked on the Models screen."""
        base = profile_name_for(model or "default")
        name, n = base, 2
        while name in self.names:
            name, n = f"{base}-{n}", n + 1
        await self.show_spec(self._fresh_spec(name), saved=False)

    async def _model_picked(self, model: str | None) -> None:
        if model and self.base is not None and model != self.base.model:
            await self._offer_new(model)

    def _fresh_spec(self, name: str) -> LaunchSpec:
        from vtui.services.launching import new_spec

        model = self.vtui.selected_model or (self.spec.model if self.spec else "")
        return new_spec(name, model)

    async def show_spec(self, spec: LaunchSpec, *, saved: bool) -> None:
        self.base, self.saved = spec, saved
        self.probe_result = None
        self.texts = texts_from_spec(spec)
        select = self.query_one("#profile-select", Select)
        names = sorted({*self.names, spec.name})
        with select.prevent(Select.Changed):
            select.set_options([(n, n) for n in names])
            select.value = spec.name
        form = self.query_one("#launch-form", VerticalScroll)
        await form.remove_children()
        widgets: list[Static | ArgField] = []
        for title, fields in form_groups():
            widgets.append(Static(title, classes="form-group-title"))
            widgets += [ArgField(f, self.texts.get(f.key, "")) for f in fields]
        await form.mount_all(widgets)
        self.recheck()
        self.read_facts()

    # -- editing ------------------------------------------------------------------------------

    def on_arg_field_edited(self, message: ArgField.Edited) -> None:
        if self.texts.get(message.key) == message.text:
            return
        self.texts[message.key] = message.text
        self.saved = False
        port_changed = message.key in ("--port", "--host", "model")
        self.recheck()
        if port_changed:
            self.read_facts()

    def on_arg_field_focused(self, message: ArgField.Focused) -> None:
        self.query_one("#field-help", Static).update(_help_text(message.field))

    @on(Select.Changed, "#profile-select")
    def _profile_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and self.base and event.value != self.base.name:
            self.load_profile(event.value)

    def recheck(self) -> None:
        if self.base is None:
            return
        spec, unreadable = spec_from_texts(self.base, self.texts)
        self.spec, self.unreadable = spec, unreadable
        named = {p.field for p in unreadable}
        self.problems = unreadable + [
            p for p in check(spec, self.facts, self.model_facts) if p.field not in named
        ]
        by_field: dict[str, Problem] = {}
        for problem in self.problems:
            by_field.setdefault(problem.field, problem)
        fields = list(self.query(ArgField))
        shown_keys = {field.field.key for field in fields}
        # Problems of fields the form has no widget for (a profile's own name, a key edited
        # into the file by hand) go in the status line.
        loose = [p for p in self.problems if p.field not in shown_keys]
        for field in fields:
            found = by_field.get(field.field.key)
            field.show_problem(
                found.message if found else None,
                warning=bool(found and not found.blocks_compose),
            )
        self._loose = loose
        self._show_status(loose)
        self.refit()
        preview = self.query_one("#compose-preview", Static)
        if not self.blocking:
            if spec.runtime == "process":  # no container: what vtui runs is the serve line
                line = render_vllm_serve(spec)
                preview.update(Syntax(line, "bash", theme="ansi_dark", word_wrap=True))
            elif spec.multinode:  # one compose file cannot say it: each node's command
                lines = node_commands(spec)
                preview.update(Syntax(lines, "bash", theme="ansi_dark", word_wrap=False))
            else:
                yaml = render_compose(spec)
                # Never soft-wrapped: a wrapped `#` comment reads as broken YAML. The pane
                # scrolls sideways instead.
                preview.update(Syntax(yaml, "yaml", theme="ansi_dark", word_wrap=False))
            self._previewed = True
        elif not self._previewed:
            preview.update(
                Text(
                    "The compose file appears here once the fields marked in red are fixed.",
                    style="dim",
                )
            )

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.blocks_compose]

    @property
    def stops_launch(self) -> list[Problem]:
        return [p for p in self.problems if p.blocks_launch]

    def _show_status(self, loose: list[Problem]) -> None:
        state = "saved" if self.saved else "not saved"
        name = self.base.name if self.base else ""
        if self.blocking:
            line = Text(
                f"{name} \u00b7 {state} \u00b7 {units.plural(len(self.blocking), 'problem')} to "
                "fix (marked in red below)",
                style="bold red",
            )
        elif self.stops_launch:
            line = Text(
                f"{name} \u00b7 {state} \u00b7 cannot launch now: "
                f"{self.stops_launch[0].message} (Ctrl+O still writes a compose file)",
                style="bold yellow",
            )
        elif self.problems:
            line = Text(
                f"{name} \u00b7 {state} \u00b7 ready to launch \u00b7 "
                f"{len(self.problems)} caution{'s' if len(self.problems) > 1 else ''}",
                style="yellow",
            )
        elif (running := self.running()) is not None:
            line = Text(
                f"{name} \u00b7 {state} \u00b7 running as {running.name} \u00b7 Ctrl+R restarts "
                "it with these settings",
                style="green",
            )
        else:
            line = Text(f"{name} \u00b7 {state} \u00b7 ready to launch", style="green")
        for problem in loose:
            line.append(f"\n{problem}", style="red")
        self.query_one("#launch-status", Static).update(line)

    # -- actions ------------------------------------------------------------------------------

    def _ready(self, what: str, *, launching: bool = False) -> LaunchSpec | None:
        # A warning (the port is taken) does not spoil a compose file written for later,
        # but a launch from here now would fail on it.
        stopping = self.stops_launch if launching else self.blocking
        if self.spec is None or stopping:
            self.notify(
                f"Fix the fields marked in red or yellow before you {what}."
                if launching
                else f"Fix the fields marked in red before you {what}.",
                severity="error",
            )
            return None
        return self.spec

    def action_save(self) -> None:
        # A draft with problems may be saved; a field whose text cannot be read may not,
        # since the file would not say what the form shows.
        if self.unreadable:
            self.notify(f"{self.unreadable[0]}: fix it before saving.", severity="error")
        elif self.spec is not None:
            self.save(self.spec)

    @work(thread=True, exclusive=True, group="launch-save")
    def save(self, spec: LaunchSpec) -> None:
        from vtui.core.errors import ProfileError

        store = self.store()
        try:
            path = store.put(spec)
        except (ProfileError, OSError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._saved, spec, path)

    def _saved(self, spec: LaunchSpec, path: Path) -> None:
        self.base, self.saved = spec, True
        self.names = sorted({*self.names, spec.name})
        self.recheck()
        self.notify(f"Saved {path}", title="Profile")

    def action_new_profile(self) -> None:
        async def named(name: str | None) -> None:
            if name:
                await self.show_spec(self._fresh_spec(name), saved=False)

        self.app.push_screen(AskText("Name of the new profile"), named)

    def action_duplicate(self) -> None:
        if self.spec is None:
            return
        spec = self.spec

        async def named(name: str | None) -> None:
            if name:
                await self.show_spec(replace(spec, name=name, container_name=""), saved=False)

        self.app.push_screen(AskText("Name of the copy", f"{spec.name}-copy"), named)

    def action_delete(self) -> None:
        if self.base is None:
            return
        name = self.base.name

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(name)

        self.app.push_screen(Confirm(f"Delete profile {name} and its API key?"), answered)

    @work(thread=True, exclusive=True, group="launch-save")
    def delete(self, name: str) -> None:
        from vtui.core.errors import ProfileError

        try:
            self.store().delete(name)
        except ProfileError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self.notify, f"Deleted {name}", title="Profile")
        self.names = [n for n in self.names if n != name]
        self.load_profile(None)

    def action_export(self) -> None:
        spec = self._ready("export the profile")
        if spec is None:
            return
        from vtui.ui.widgets.export_dialog import ExportDialog

        self.app.push_screen(ExportDialog(self.vtui.backends, spec))

    def action_write_compose(self) -> None:
        spec = self._ready("write the compose file")
        if spec is None:
            return

        def chosen(path: str | None) -> None:
            if path:
                from vtui.services.saving import output_path

                self.write_compose(spec, output_path(self.vtui.backends, path))

        self.app.push_screen(AskText("Write the compose file to", "docker-compose.yml"), chosen)

    @work(thread=True, exclusive=True, group="launch-write")
    def write_compose(self, spec: LaunchSpec, path: Path) -> None:
        from vtui.services.saving import write_compose

        try:
            env_path = write_compose(self.vtui.backends, spec, path)
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, f"Cannot write {path}: {exc.strerror}", severity="error"
            )
            return
        except ProfileError as exc:
            self.app.call_from_thread(self.notify, f"Cannot write {path}: {exc}", severity="error")
            return
        self.app.call_from_thread(
            self.notify,
            f"Wrote {path} and {env_path} (the key, mode 0600). "
            f"Start it: docker compose -f {path} up -d",
            title="Compose",
        )

    def _deployments_changed(self, _seen: int) -> None:
        if self.spec is not None:
            self._show_status(self._loose)

    def running(self) -> Deployment | None:
        """This profile's container, when one runs now."""
        from vtui.services.launching import running_for

        name = self.base.name if self.base else None
        return running_for(self.vtui.deployments, name) if name else None

    def action_launch(self) -> None:
        spec = self._ready("launch", launching=True)
        if spec is None:
            return
        running = self.running()
        if running is None:
            self._launching = True
            self.launch(spec)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._launching = True
                self.launch(spec, running)

        self.app.push_screen(
            Confirm(
                f"Restart {running.name} with these settings? The running server stops "
                "first (SIGTERM, then SIGKILL after 30 s): requests in flight are cut."
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="launch-run")
    def launch(self, spec: LaunchSpec, running: Deployment | None = None) -> None:
        from vtui.services.launching import LaunchFailed, launch, pull_reporter, restart_with

        pulling = pull_reporter(
            spec.image,
            0.5,
            lambda pull: self.app.call_from_thread(self._pulling, pull.describe(), pull.fraction),
        )
        try:
            if running is not None:
                deployment = restart_with(self.vtui.backends, spec, running, pulling)
            else:
                deployment = launch(self.vtui.backends, spec, pulling)
        except LaunchFailed as exc:
            self.app.call_from_thread(self._launch_failed, str(exc))
            return
        self.app.call_from_thread(self._launched, deployment.name)

    def _launch_failed(self, why: str) -> None:
        self._launching = False
        self.notify(f"Launch failed: {why}", severity="error", timeout=15)

    def _pulling(self, text: str, fraction: float | None) -> None:
        done = f" ({fraction:.0%})" if fraction is not None else ""
        self.query_one("#launch-status", Static).update(Text(text + done, style="yellow"))

    def _launched(self, name: str) -> None:
        self._launching = False
        self.saved = True
        self.notify(f"Started {name}. Its log is on the Server screen.", title="Launch")
        self.vtui.follow_container = name
        self.vtui.read_deployments()
        self.app.switch_mode("server")


def profile_name_for(model: str) -> str:
    """A profile name from a model id: Qwen/Qwen3-8B becomes qwen3-8b."""
    tail = model.rstrip("/").rsplit("/", 1)[-1].lower()
    name = re.sub(r"[^a-z0-9._-]+", "-", tail).strip("-._")[:63]
    return name or "model"


def _help_text(field: FormField) -> Text:
    text = Text.assemble((field.key if field.arg else field.label, "bold"), "\n")
    arg = field.arg
    if arg is not None:
        facts = [f"kind {arg.kind}"]
        if arg.default not in (None, "", [], {}):
            facts.append(f"vLLM's default {arg.default!r}")
        values = arg.choices or arg.suggested
        if values:
            shown = ", ".join(values[:8]) + (", ..." if len(values) > 8 else "")
            facts.append(f"values: {shown}")
        text.append(" \u00b7 ".join(facts) + "\n", style="dim")
    text.append(field.help)
    return text
