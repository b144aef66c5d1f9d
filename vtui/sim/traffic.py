"""Clients of the demo's server: a steady, seeded stream of chat requests fed into its
metrics, so the demo's Server screen shows a server at work. Time here is simulated: each
`advance` plays out that many seconds at once, and the same seed plays out the same."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field

from vtui.sim.metrics import ServerMetrics

SYSTEM_PROMPT_WORDS = 256  # every client sends the same system prompt: the prefix cache hits it


@dataclass(order=True)
class _Request:
    next_token_at: float
    started_at: float = field(compare=False)
    prompt_tokens: int = field(compare=False)
    tokens_left: int = field(compare=False)
    sent: int = field(compare=False, default=0)
    last_token_at: float = field(compare=False, default=0.0)


class SyntheticTraffic:
    def __init__(
        self,
        metrics: ServerMetrics,
        seed: int,
        mean_rate: float = 2.0,
        max_num_seqs: int = 64,
    ) -> None:
        self.metrics = metrics
        self.now = 0.0
        self.mean_rate = mean_rate  # requests per second, on average
        self.max_num_seqs = max_num_seqs
        self._rng = random.Random(seed)
        self._arrival_at = self._gap()
        self._queue: list[float] = []  # arrival times of requests waiting for a place
        self._running: list[_Request] = []

    def _gap(self) -> float:
        # The load swells and ebbs over two minutes, which the sparklines show.
        swell = 1.0 + 0.6 * math.sin(self.now * 2 * math.pi / 120)
        return self._rng.expovariate(self.mean_rate * swell)

    def _itl(self) -> float:
        # Decode steps slow down as the batch fills.
        return 0.010 + 0.0004 * len(self._running) + self._rng.uniform(0.0, 0.004)

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while True:
            token_at = self._running[0].next_token_at if self._running else math.inf
            arrival_at = self._arrival_at
            if min(token_at, arrival_at) > end:
                break
            if arrival_at <= token_at:
                self.now = arrival_at
                self._arrival_at = arrival_at + self._gap()
                self._queue.append(arrival_at)
                self.metrics.waits(+1)
            else:
                self.now = token_at
                self._token(heapq.heappop(self._running))
            self._admit()
        self.now = end

    def _admit(self) -> None:
        while self._queue and len(self._running) < self.max_num_seqs:
            arrived = self._queue.pop(0)
            self.metrics.waits(-1)
            prompt = self._rng.randint(300, 1500)
            words = [f"system{i}" for i in range(SYSTEM_PROMPT_WORDS)]
            words += [f"w{self._rng.getrandbits(32)}" for _ in range(prompt - len(words))]
            self.metrics.request_started(prompt, words)
            # Prefill: longer prompts wait longer for their first token.
            first = self.now + 0.02 + prompt / 20_000 + self._rng.uniform(0.0, 0.03)
            request = _Request(first, arrived, prompt, self._rng.randint(80, 500))
            heapq.heappush(self._running, request)

    def _token(self, request: _Request) -> None:
        first = request.sent == 0
        self.metrics.token_generated(
            self.now - request.started_at if first else None,
            None if first else self.now - request.last_token_at,
        )
        request.sent += 1
        request.tokens_left -= 1
        request.last_token_at = self.now
        if request.tokens_left <= 0:
            self.metrics.request_finished(
                "stop", request.prompt_tokens + request.sent, self.now - request.started_at
            )
            return
        request.next_token_at = self.now + self._itl()
        heapq.heappush(self._running, request)
