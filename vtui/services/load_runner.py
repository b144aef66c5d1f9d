"""Runs a load test against an endpoint: N streaming requests in flight at once for S
seconds, each timed chunk by chunk; and saves the result where `vtui bench --compare` and
the user can find it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtui.backends.endpoint import ChatEndpoint, EndpointError
from vtui.backends.files.new_files import claim_new
from vtui.backends.files.profile_store import atomic_write
from vtui.core.chat_stream import AnswerDelta, ReasoningDelta
from vtui.core.load_runs import (
    CUT,
    DONE,
    ERROR,
    LoadProgress,
    LoadReport,
    LoadSettings,
    RequestRecord,
    progress_of,
    request_body,
    summarise,
)
from vtui.core.records import ChatUsage, Deployment
from vtui.core.safe_names import file_part
from vtui.core.vllm_command import HIDDEN, SECRET_FLAGS, without_secrets

if TYPE_CHECKING:
    from vtui.backends.registry import Backends

PROGRESS_SECONDS = 0.5
# After an error a client waits this long before its next request, so a server that is down
# is not hammered by a tight loop of refused connections.
ERROR_PAUSE = 0.1


class LoadTest:
    def __init__(
        self,
        endpoint: ChatEndpoint,
        model: str,
        settings: LoadSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.model = model
        self.settings = settings
        self.clock = clock
        self.records: list[RequestRecord] = []
        self.first_error: str | None = None
        self._given_up = asyncio.Event()
        self._started = 0.0

    async def run(
        self,
        on_progress: Callable[[LoadProgress], None] | None = None,
        stop: Callable[[], bool] = lambda: False,
    ) -> LoadReport:
        """Runs for the settings' duration, or until `stop()` says so, or until every request
        of the first round has failed (nothing would come of going on)."""
        settings = self.settings
        self._started = start = self.clock()
        deadline = start + settings.duration
        async with self.endpoint.session(settings.concurrency):
            clients = [asyncio.create_task(self._client(n)) for n in range(settings.concurrency)]
            while self.clock() < deadline and not stop() and not self._given_up.is_set():
                remaining = deadline - self.clock()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._given_up.wait(), max(0.0, min(PROGRESS_SECONDS, remaining))
                    )
                if on_progress is not None:
                    on_progress(self.progress())
            for task in clients:
                task.cancel()
            await asyncio.gather(*clients, return_exceptions=True)
        elapsed = min(self.clock(), deadline) - start
        if on_progress is not None:
            on_progress(self.progress(elapsed))
        return summarise(
            self.records,
            settings,
            self.endpoint.base_url,
            self.model,
            elapsed,
            self.first_error,
        )

    def progress(self, elapsed: float | None = None) -> LoadProgress:
        elapsed = self.clock() - self._started if elapsed is None else elapsed
        return progress_of(self.records, elapsed, self.settings.duration)

    async def _client(self, number: int) -> None:
        index = number
        while True:
            record = RequestRecord(started=self.clock())
            self.records.append(record)
            await self._request(record, request_body(self.model, self.settings, index))
            index += self.settings.concurrency
            await asyncio.sleep(0)  # an endpoint that answers at once must not starve the clock
            if record.outcome == ERROR:
                if not any(r.outcome == DONE for r in self.records) and (
                    sum(r.outcome == ERROR for r in self.records) >= self.settings.concurrency
                ):
                    self._given_up.set()
                await asyncio.sleep(ERROR_PAUSE)

    async def _request(self, record: RequestRecord, body: dict[str, Any]) -> None:
        try:
            async for event in self.endpoint.chat(body):
                if isinstance(event, AnswerDelta | ReasoningDelta):
                    if event.text:
                        record.token(self.clock())
                elif isinstance(event, ChatUsage):
                    record.prompt_tokens = event.prompt_tokens
                    record.completion_tokens = event.completion_tokens
            record.outcome = DONE
        except EndpointError as exc:
            fault = exc.fault
            record.outcome = ERROR
            record.error = f"http {fault.status}" if fault.status else fault.kind
            if self.first_error is None:
                self.first_error = str(exc)[:300]
        except asyncio.CancelledError:
            # Time is up mid-reply: leaving the stream closes it, and vLLM aborts the request.
            record.outcome = CUT
            raise


def run_load_test(
    endpoint: ChatEndpoint,
    model: str,
    settings: LoadSettings,
    on_progress: Callable[[LoadProgress], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> LoadReport:
    """The whole run on an event loop of its own: call it from a thread (a worker, the CLI),
    so the timings are the server's and not the UI's."""
    return asyncio.run(LoadTest(endpoint, model, settings).run(on_progress, stop))


def run_data(
    report: LoadReport, deployment: Deployment | None, backends: Backends
) -> dict[str, Any]:
    """The run as saved and as `--json` prints it: its figures and what it ran against."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return report.as_json(stamp, launch_record(deployment, backends))


def save_run(data: Mapping[str, Any], backends: Backends, output: Path | None = None) -> Path:
    """Writes run_data to `output`, or else to the bench folder named by time and profile
    (the demo's own folder under --demo: it never writes to the user's), never over an
    earlier run saved in the same second. Raises OSError."""
    if output is None:
        launch = data.get("launch") or {}
        label = str(launch.get("profile") or launch.get("container") or "endpoint")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        (output,) = claim_new(backends.places.bench_runs, f"{stamp}-{file_part(label)}")
    atomic_write(output, json.dumps(data, indent=2) + "\n")
    return output


def launch_record(deployment: Deployment | None, backends: Backends) -> dict[str, Any] | None:
    """What served the run, for the saved result: the container, its image and vLLM
    arguments (keys hidden), and the profile it was launched from when vtui launched it."""
    if deployment is None:
        return None
    from dataclasses import asdict

    from vtui.core.errors import ProfileError

    record: dict[str, Any] = {
        "container": deployment.name,
        "image": deployment.image,
        "vllm_args": list(without_secrets(deployment.command)),
        "profile": deployment.profile,
        "spec": None,
    }
    if deployment.profile:
        try:
            spec = backends.profiles().load(deployment.profile)
        except ProfileError:
            return record
        fields = asdict(spec)
        # Environment values may be anything the user set; their names say enough.
        fields["env"] = sorted(spec.env)
        fields["gpus"] = spec.gpus if isinstance(spec.gpus, str) else list(spec.gpus)
        fields["extra_args"] = list(without_secrets(spec.extra_args))
        fields["args"] = {k: HIDDEN if k in SECRET_FLAGS else v for k, v in spec.args.items()}
        record["spec"] = fields
    return record
