"""Reads one server's /metrics every few seconds and keeps the history the Server screen
draws. A server without /metrics, one that does not answer, or one that answers with
something else, is a state to show, never an error to raise."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from vtui.backends.endpoint import ChatEndpoint, EndpointError
from vtui.core.serving_metrics import MetricsFormatError, parse_metrics
from vtui.core.serving_stats import SCRAPE_SECONDS, ServingHistory, ServingView

READING, SERVING, ABSENT, UNREACHABLE, MALFORMED = (
    "reading",
    "serving",
    "absent",
    "unreachable",
    "malformed",
)


@dataclass(frozen=True)
class ServingUpdate:
    state: str  # one of the five above
    view: ServingView | None
    problem: str | None = None  # what went wrong, in words, when the last reading failed


class ServingWatch:
    def __init__(
        self,
        endpoint: ChatEndpoint,
        clock: Callable[[], float] = time.monotonic,
        history: ServingHistory | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.clock = clock
        self.history = history or ServingHistory()

    def step(self, at: float | None = None) -> ServingUpdate:
        """One reading, stamped `at` (default: now on the watch's clock)."""
        try:
            text = self.endpoint.metrics_text()
        except EndpointError as exc:
            self.history.add_gap()
            return ServingUpdate(UNREACHABLE, self._view(), str(exc))
        if text is None:
            return ServingUpdate(ABSENT, None, f"{self.endpoint.base_url} has no /metrics")
        try:
            sample = parse_metrics(text, self.clock() if at is None else at)
        except MetricsFormatError as exc:
            self.history.add_gap()
            return ServingUpdate(MALFORMED, self._view(), str(exc))
        self.history.add(sample)
        return ServingUpdate(SERVING, self.history.view())

    def _view(self) -> ServingView | None:
        return self.history.view() if len(self.history) else None

    def run(
        self,
        emit: Callable[[ServingUpdate], None],
        stopping: threading.Event,
        interval: float = SCRAPE_SECONDS,
    ) -> None:
        while not stopping.is_set():
            emit(self.step())
            stopping.wait(interval)

    def replay(self, readings: int, interval: float = SCRAPE_SECONDS) -> ServingUpdate:
        """`readings` readings at once, stamped `interval` apart: the demo's simulated clients
        play out that much time, so screenshots show the same history on every run."""
        update = ServingUpdate(READING, None)
        for i in range(readings):
            update = self.step(at=i * interval)
        return update
