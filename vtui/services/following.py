"""Follows one vLLM container: its log as it is written, its state, its /health and
/v1/models, and what all that says about where start-up is and why it failed.

The Server screen and `vtui up` both read a deployment through this, so they say the same.
It survives what happens to containers on a real box: the container restarts (a new
tracker, the log goes on), the engine goes away and comes back (it says so, then
re-attaches where it left off), the container is removed (it says so and ends).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from vtui.backends.endpoint import ChatEndpoint, EndpointError
from vtui.backends.engine import ContainerEngine, LogFollow
from vtui.backends.registry import Backends
from vtui.core.calibration import measured_from
from vtui.core.errors import BackendUnavailable, EngineError, NoSuchContainer
from vtui.core.fit import DEFAULT_UTILIZATION
from vtui.core.log_buffer import DEFAULT_CAP
from vtui.core.log_explainer import Explanation, FailureContext, explain
from vtui.core.records import Deployment, LogLine
from vtui.core.startup import ENDED, ORDER, LoadFigures, Phase, StartupTracker
from vtui.core.vllm_command import flag_number

POLL_SECONDS = 1.0
# What the first read of a log takes from its end: what the log view holds at most.
CATCH_UP_LINES = DEFAULT_CAP
# The explainer reads this many of the last lines: a traceback's root cause is within them.
EXPLAIN_WINDOW = 400
_END = object()


@dataclass(frozen=True)
class WatchUpdate:
    lines: tuple[str, ...]  # log lines new since the last update
    deployment: Deployment | None  # as last seen (None before the first sight)
    phase: Phase
    progress: str  # "loading weights 12s (starting 3s)"
    figures: tuple[str, ...]  # "weights 15.24 GiB", "KV cache 50.32 GiB", ...
    explanation: Explanation | None  # why it crashed, once it has
    engine_error: str | None  # the engine cannot be reached; the watch keeps trying
    gone: bool = False  # the container was removed; the watch has ended
    restarted: bool = False  # a new run of the container began with these lines
    models: tuple[str, ...] | None = None  # what /v1/models lists, once it answers
    # Why vtui cannot reach the server's port from here (a tcp:// host's 127.0.0.1 port):
    # its readiness can then only be told by its own log.
    unreachable: str | None = None


class DeploymentWatch:
    @classmethod
    def of(cls, backends: Backends, container_id: str, gpu_count: int = 1) -> DeploymentWatch:
        """The watch the Server screen and `vtui up` both run, on the registry's backends;
        each real start it sees is kept for the next estimate (learning.py)."""
        from vtui.services.learning import learn_from_start, should_learn

        def learn(deployment: Deployment, figures: LoadFigures) -> None:
            # In the watch's own thread (a worker under the TUI): `vtui up` may exit as
            # soon as the server is up, and a record half written is no record.
            if should_learn(backends, deployment):
                learn_from_start(backends, deployment, figures)

        return cls(backends.engine, backends.endpoint_for, container_id, gpu_count, learn)

    def __init__(
        self,
        engine: ContainerEngine,
        endpoint_for: Callable[[Deployment], ChatEndpoint],
        container_id: str,
        gpu_count: int = 1,
        learn: Callable[[Deployment, LoadFigures], None] | None = None,
    ) -> None:
        self.engine = engine
        self._learn = learn
        self._learned_run: float | None = None
        self.endpoint_for = endpoint_for
        self.container_id = container_id
        self.gpu_count = gpu_count
        self.deployment: Deployment | None = None
        self.tracker: StartupTracker | None = None
        self.models: tuple[str, ...] | None = None
        self.engine_error: str | None = None
        self.unreachable: str | None = None
        self._stop_asked = False
        self._recent: deque[LogLine] = deque(maxlen=EXPLAIN_WINDOW)
        self._pending: list[str] = []
        self._restarted = False
        self._gone = False
        self._endpoint: ChatEndpoint | None = None
        self._endpoint_for_port: int | None = None
        # Where the log was read to: its last stamp, how many lines carried that stamp, and
        # how many of those a re-read (which starts at that stamp) still has to skip.
        self._last_ns = 0
        self._count_at_last = 0
        self._skip = 0
        self._explained: tuple[tuple[int, int], Explanation | None] | None = None

    # -- what callers tell it -----------------------------------------------------------------

    def stop_asked(self) -> None:
        """The user asked for the stop: the exit that follows is 'stopped', not 'crashed'."""
        self._stop_asked = True

    # -- feeding --------------------------------------------------------------------------------

    def _since(self) -> int | None:
        """Where the next read starts: at the last stamp read, whose lines _take skips."""
        self._skip = self._count_at_last
        return self._last_ns or None

    def _take(self, line: LogLine) -> None:
        if line.at_ns < self._last_ns:
            return
        if line.at_ns == self._last_ns:
            if self._skip > 0:  # read before, and given again by a read from this stamp
                self._skip -= 1
                return
            self._count_at_last += 1
        else:
            self._last_ns, self._count_at_last, self._skip = line.at_ns, 1, 0
        self._pending.append(line.text)
        self._recent.append(line)
        if self.tracker is not None:
            self.tracker.feed(line.text, line.at_ns / 1e9)

    def _observe(self, deployment: Deployment) -> None:
        first = self.deployment is None
        self.deployment = deployment
        started = deployment.started_at
        if self.tracker is None or (started is not None and started != self.tracker.started_at):
            self.tracker = StartupTracker(started_at=started or self.engine.now())
            # Lines of this run that came before its start was seen (a restart, read from
            # the log before the engine was asked) count for it too.
            for line in self._recent:
                if started is not None and line.at_ns / 1e9 >= started:
                    self.tracker.feed(line.text, line.at_ns / 1e9)
            if not first:
                self._restarted, self.models, self._stop_asked = True, None, False

    def _settle(self) -> None:
        """After the log is read: a container that is no longer running has ended its run."""
        d, tracker = self.deployment, self.tracker
        if d is not None and tracker is not None and not d.live and tracker.phase not in ENDED:
            tracker.exited(d.exit_code, d.oom_killed, self.engine.now(), asked=self._stop_asked)

    def _check_health(self) -> None:
        d, tracker = self.deployment, self.tracker
        if d is None or tracker is None or not d.live or d.port is None:
            return
        if self.models is not None:
            return
        if self._endpoint is None or self._endpoint_for_port != d.port:
            try:
                self._endpoint = self.endpoint_for(d)
            except (BackendUnavailable, EngineError) as exc:
                self.unreachable = str(exc)
                return
            self.unreachable = None
            self._endpoint_for_port = d.port
        if tracker.phase in ORDER and ORDER.index(tracker.phase) < ORDER.index(Phase.READY):
            if not self._endpoint.health():
                return
            tracker.healthy(self.engine.now())
        with contextlib.suppress(EndpointError):
            self.models = tuple(self._endpoint.served_models())

    def _explanation(self) -> Explanation | None:
        """Why the run crashed; read again only when the log has grown since the last read
        (a crashed container is still reported each second)."""
        read_to = (self._last_ns, self._count_at_last)
        if self._explained is not None and self._explained[0] == read_to:
            return self._explained[1]
        d = self.deployment
        command = d.command if d else ()
        explanation = explain(
            (line.text for line in self._recent),
            FailureContext(
                gpu_count=self.gpu_count,
                tensor_parallel_size=int(flag_number(command, "--tensor-parallel-size", 1)),
                gpu_memory_utilization=flag_number(
                    command, "--gpu-memory-utilization", DEFAULT_UTILIZATION
                ),
                port=(d.port if d and d.port else 8000),
            ),
        )
        self._explained = (read_to, explanation)
        return explanation

    def _maybe_learn(self) -> None:
        """Once per run, as soon as vLLM has printed its budget."""
        tracker, d = self.tracker, self.deployment
        if self._learn is None or tracker is None or d is None:
            return
        if self._learned_run == tracker.started_at or measured_from(tracker.figures) is None:
            return
        if tracker.figures.utilization is None and not tracker.figures.engine_ready:
            return  # the budget line (0.26+) or the end of start-up, whichever comes
        self._learned_run = tracker.started_at
        self._learn(d, tracker.figures)

    def update(self) -> WatchUpdate:
        """What changed since the last update (the new lines), and where things stand."""
        self._maybe_learn()
        tracker = self.tracker
        crashed = tracker is not None and tracker.phase is Phase.CRASHED
        explanation = self._explanation() if crashed else None
        out = WatchUpdate(
            lines=tuple(self._pending),
            deployment=self.deployment,
            phase=tracker.phase if tracker else Phase.STARTING,
            progress=tracker.describe(self.engine.now()) if tracker else "",
            figures=tuple(tracker.figures.lines()) if tracker else (),
            explanation=explanation,
            engine_error=self.engine_error,
            gone=self._gone,
            restarted=self._restarted,
            models=self.models,
            unreachable=self.unreachable,
        )
        self._pending, self._restarted = [], False
        return out

    # -- reading -------------------------------------------------------------------------------

    def _inspect(self) -> bool:
        """Look at the container; False when the engine cannot say or the container is gone."""
        try:
            deployment = self.engine.inspect(self.container_id)
        except BackendUnavailable as exc:
            self.engine_error = exc.reason
            return False
        except NoSuchContainer:
            self._gone = True
            return False
        except EngineError as exc:
            self.engine_error = str(exc)
            return False
        self.engine_error = None
        self._observe(deployment)
        return True

    def _catch_up(self) -> None:
        """Read what the log holds past the last line read (all of it, the first time)."""
        try:
            since = self._since()
            # The first read takes the log's end only: the view holds no more than that.
            tail = None if since else CATCH_UP_LINES
            for line in self.engine.log_lines(self.container_id, since, tail=tail):
                self._take(line)
        except BackendUnavailable as exc:
            self.engine_error = exc.reason
        except NoSuchContainer:
            self._gone = True
        except EngineError as exc:
            self.engine_error = str(exc)

    def step(self) -> WatchUpdate:
        """One look without following: the state, the log since the last look, /health."""
        if self._inspect():
            self._catch_up()
            self._settle()
            self._check_health()
        return self.update()

    def run(self, emit: Callable[[WatchUpdate], None], stopping: threading.Event) -> None:
        """Follow until `stopping` is set or the container is removed, calling `emit` with
        each batch of lines and at least once a POLL_SECONDS with the state."""
        inbox: queue.Queue[tuple[int, object]] = queue.Queue()
        follow: LogFollow | None = None
        generation = 0
        next_poll = 0.0
        try:
            while not stopping.is_set():
                changed = False
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + POLL_SECONDS
                    if self._inspect() and follow is None:
                        self._catch_up()
                        if self.deployment is not None and self.deployment.live:
                            generation += 1
                            follow = self._attach(inbox, generation)
                    if self._gone:
                        emit(self.update())
                        return
                    self._settle()
                    self._check_health()
                    changed = True
                for item in _drain(inbox, generation):
                    if item is _END:
                        # The stream ended: the container stopped, restarted, or the engine
                        # went away. Look again now and re-attach where the log was left.
                        follow, next_poll = None, 0.0
                    elif isinstance(item, LogLine):
                        self._take(item)
                        changed = True
                if changed:
                    emit(self.update())
        finally:
            if follow is not None:
                follow.close()

    def _attach(self, inbox: queue.Queue[tuple[int, object]], generation: int) -> LogFollow | None:
        try:
            follow = self.engine.follow_logs(self.container_id, self._since())
        except BackendUnavailable as exc:
            self.engine_error = exc.reason
            return None
        except EngineError:
            return None

        def pump() -> None:
            try:
                for line in follow:
                    inbox.put((generation, line))
            finally:
                inbox.put((generation, _END))

        threading.Thread(target=pump, name="vtui-log-follow", daemon=True).start()
        return follow


def _drain(inbox: queue.Queue[tuple[int, object]], generation: int) -> list[object]:
    """What the current stream has delivered: waits a little for the first item, then takes
    what is there (a batch, so a chatty log costs one update per batch, not per line)."""
    items: list[object] = []
    try:
        first = inbox.get(timeout=0.1)
    except queue.Empty:
        return items
    for entry in (first, *_ready(inbox, 5000)):
        if entry[0] == generation:
            items.append(entry[1])
    return items


def _ready(inbox: queue.Queue[tuple[int, object]], limit: int) -> list[tuple[int, object]]:
    out = []
    for _ in range(limit):
        try:
            out.append(inbox.get_nowait())
        except queue.Empty:
            break
    return out
