"""A quick load test, the pure part: what to send, what each request recorded, and what the
whole run says (throughput, latency percentiles, errors), as text and as JSON."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REPORT_FORMAT = 1  # bump when the JSON changes shape, so old results still compare
# Common English words: about one token each in the tokenizers of today's models.
_PROSE = (
    "the quick brown fox jumps over a lazy dog while seven wise owls watch from an old oak "
    "tree near the river bank under bright stars and distant clouds drifting slowly east"
)
_WORDS = _PROSE.split()


@dataclass(frozen=True)
class LoadSettings:
    concurrency: int = 8  # requests in flight at once
    duration: float = 30.0  # seconds
    prompt_tokens: int = 256  # about; the server's usage figures say exactly
    max_tokens: int = 128
    # vLLM's ignore_eos: every reply runs to max_tokens, so runs compare. Off for servers that
    # reject fields they do not know.
    ignore_eos: bool = True

    def problems(self) -> list[tuple[str, str]]:
        """(setting, what is wrong with it) for each bad setting; the setting is the field's
        name, which the CLI writes as its option and the form as its label."""
        limits = (
            ("concurrency", self.concurrency, 1, 1024, "requests at once"),
            ("duration", self.duration, 1, 3600, "seconds"),
            ("prompt_tokens", self.prompt_tokens, 1, 1_000_000, "tokens"),
            ("max_tokens", self.max_tokens, 1, 1_000_000, "tokens"),
        )
        return [
            (name, f"{value:g} is out of range: give {low:,} to {high:,} {unit}")
            for name, value, low, high, unit in limits
            if not low <= value <= high
        ]


def prompt_text(tokens: int, index: int) -> str:
    """About `tokens` tokens of prose. The request's number comes first, so no two prompts
    share a prefix and the prefix cache cannot answer for the model."""
    words = [f"Request {index}:"]
    words += [_WORDS[i % len(_WORDS)] for i in range(max(0, tokens - 4))]
    return " ".join(words)


def request_body(model: str, settings: LoadSettings, index: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": prompt_text(settings.prompt_tokens, index)}],
        "max_tokens": settings.max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if settings.ignore_eos:
        body["ignore_eos"] = True
    return body


DONE, CUT, ERROR, RUNNING = "done", "cut", "error", "running"


@dataclass
class RequestRecord:
    """One request of the run, on the runner's clock."""

    started: float
    first_token: float | None = None
    last_token: float | None = None
    gaps: list[float] = field(default_factory=list)  # between streamed chunks
    chunks: int = 0
    prompt_tokens: int | None = None  # from the server's usage, when it sends one
    completion_tokens: int | None = None
    outcome: str = RUNNING  # done, cut (still streaming when time ran out) or error
    error: str | None = None  # the fault's kind: "http 429", "unreachable", "dropped", ...

    def token(self, now: float) -> None:
        if self.first_token is None:
            self.first_token = now
        elif self.last_token is not None:
            self.gaps.append(now - self.last_token)
        self.last_token = now
        self.chunks += 1

    @property
    def output_tokens(self) -> int:
        if self.outcome == DONE and self.completion_tokens is not None:
            return self.completion_tokens
        return self.chunks


@dataclass(frozen=True)
class LoadProgress:
    elapsed: float
    duration: float
    completed: int
    errors: int
    in_flight: int
    output_tokens: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.elapsed / self.duration) if self.duration else 1.0

    def line(self) -> str:
        rate = self.output_tokens / self.elapsed if self.elapsed > 0 else 0.0
        return (
            f"{self.elapsed:.0f}/{self.duration:.0f} s \u00b7 {self.completed:,} done \u00b7 "
            f"{self.in_flight} in flight \u00b7 {self.errors:,} errors \u00b7 {rate:,.0f} tokens/s"
        )


def progress_of(records: Iterable[RequestRecord], elapsed: float, duration: float) -> LoadProgress:
    records = list(records)
    return LoadProgress(
        elapsed=elapsed,
        duration=duration,
        completed=sum(r.outcome == DONE for r in records),
        errors=sum(r.outcome == ERROR for r in records),
        in_flight=sum(r.outcome == RUNNING for r in records),
        output_tokens=sum(r.output_tokens for r in records),
    )


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between the closest ranks (numpy's
    default), so p50 of an even count is the mean of the two middle values."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class LoadReport:
    settings: LoadSettings
    endpoint: str
    model: str
    elapsed: float
    completed: int
    cut: int
    errors: Mapping[str, int]
    output_tokens: int
    mean_prompt_tokens: float | None
    ttft: tuple[float | None, float | None, float | None]  # p50, p99, mean
    itl: tuple[float | None, float | None, float | None]
    first_error: str | None = None  # the first failure's words, to show the user

    @property
    def request_throughput(self) -> float:
        return self.completed / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def output_tps(self) -> float:
        return self.output_tokens / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def why_nothing_completed(
        self, duration: str = "the duration", max_tokens: str = "max tokens"
    ) -> str | None:
        """None when a request completed; else why not, and what to change (the settings
        named as the caller's user knows them)."""
        if self.completed:
            return None
        if self.first_error or self.errors:
            kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(self.errors.items()))
            return f"no request completed: {self.first_error or kinds}"
        s = self.settings
        return (
            f"no request completed: {self.cut:,} were still streaming when the "
            f"{s.duration:g} s ran out. Replies of {s.max_tokens:,} tokens take longer here: "
            f"raise {duration} or lower {max_tokens}"
        )

    def lines(self) -> list[str]:
        s = self.settings
        prompt = (
            f"{self.mean_prompt_tokens:,.0f} prompt tokens (server's count)"
            if self.mean_prompt_tokens is not None
            else f"~{s.prompt_tokens:,} prompt tokens"
        )
        errors = (
            ", ".join(f"{n:,} {kind}" for kind, n in sorted(self.errors.items()))
            if self.errors
            else "none"
        )
        lines = [
            f"{self.model} at {self.endpoint}: {s.concurrency} at once for {self.elapsed:.1f} s, "
            f"{prompt}, up to {s.max_tokens:,} out",
            f"requests    {self.completed:,} done ({self.request_throughput:.2f}/s), "
            f"{self.cut:,} cut at the end",
            f"output      {self.output_tokens:,} tokens, {self.output_tps:,.1f} tokens/s",
            f"TTFT        p50 {_ms(self.ttft[0])} \u00b7 p99 {_ms(self.ttft[1])} "
            f"\u00b7 mean {_ms(self.ttft[2])}",
            f"ITL         p50 {_ms(self.itl[0])} \u00b7 p99 {_ms(self.itl[1])} "
            f"\u00b7 mean {_ms(self.itl[2])}",
            f"errors      {errors}",
        ]
        if self.first_error:
            lines.append(f"first error {self.first_error}")
        return lines

    def as_json(self, started_at: str, launch: Mapping[str, Any] | None) -> dict[str, Any]:
        s = self.settings
        return {
            "format": REPORT_FORMAT,
            "started_at": started_at,
            "endpoint": self.endpoint,
            "model": self.model,
            "settings": {
                "concurrency": s.concurrency,
                "duration_s": s.duration,
                "prompt_tokens": s.prompt_tokens,
                "max_tokens": s.max_tokens,
                "ignore_eos": s.ignore_eos,
            },
            "results": {
                "elapsed_s": round(self.elapsed, 3),
                "requests_completed": self.completed,
                "requests_cut": self.cut,
                "errors": dict(self.errors),
                "first_error": self.first_error,
                "request_throughput": round(self.request_throughput, 4),
                "output_tokens": self.output_tokens,
                "output_tokens_per_s": round(self.output_tps, 2),
                "mean_prompt_tokens": self.mean_prompt_tokens,
                "ttft_s": _stats(self.ttft),
                "itl_s": _stats(self.itl),
            },
            # What served the run: the profile and the container's vLLM arguments.
            "launch": dict(launch) if launch is not None else None,
        }


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "N/A"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _stats(values: tuple[float | None, float | None, float | None]) -> dict[str, float | None]:
    return {
        name: None if v is None else round(v, 6)
        for name, v in zip(("p50", "p99", "mean"), values, strict=True)
    }


def _summary(values: list[float]) -> tuple[float | None, float | None, float | None]:
    mean = sum(values) / len(values) if values else None
    return percentile(values, 0.5), percentile(values, 0.99), mean


def summarise(
    records: Iterable[RequestRecord],
    settings: LoadSettings,
    endpoint: str,
    model: str,
    elapsed: float,
    first_error: str | None = None,
) -> LoadReport:
    records = list(records)
    errors: dict[str, int] = {}
    for r in records:
        if r.outcome == ERROR:
            errors[r.error or "error"] = errors.get(r.error or "error", 0) + 1
    answered = [r for r in records if r.outcome in (DONE, CUT)]
    ttfts = [r.first_token - r.started for r in answered if r.first_token is not None]
    gaps = [g for r in answered for g in r.gaps]
    prompts = [r.prompt_tokens for r in records if r.prompt_tokens is not None]
    return LoadReport(
        settings=settings,
        endpoint=endpoint,
        model=model,
        elapsed=elapsed,
        completed=sum(r.outcome == DONE for r in records),
        cut=sum(r.outcome == CUT for r in records),
        errors=errors,
        output_tokens=sum(r.output_tokens for r in answered),
        mean_prompt_tokens=sum(prompts) / len(prompts) if prompts else None,
        ttft=_summary(ttfts),
        itl=_summary(gaps),
        first_error=first_error,
    )


# -- comparing two saved runs ------------------------------------------------------------------

COMPARED = (
    ("requests/s", ("results", "request_throughput"), True),
    ("output tokens/s", ("results", "output_tokens_per_s"), True),
    ("TTFT p50 (s)", ("results", "ttft_s", "p50"), False),
    ("TTFT p99 (s)", ("results", "ttft_s", "p99"), False),
    ("ITL p50 (s)", ("results", "itl_s", "p50"), False),
    ("ITL p99 (s)", ("results", "itl_s", "p99"), False),
)


def _at(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def comparison_lines(
    a: Mapping[str, Any], b: Mapping[str, Any], names: tuple[str, str]
) -> list[str]:
    """Two saved runs side by side: each figure, and how B stands against A."""
    width = max(14, *(len(n) for n in names))
    lines = [f"{'':<16}{names[0]:>{width}}  {names[1]:>{width}}  B vs A"]
    if _at(a, ("settings",)) != _at(b, ("settings",)):
        lines.append("note: the load settings differ, so this is not like for like")
    for label, path, higher_is_better in COMPARED:
        va, vb = _at(a, path), _at(b, path)
        if isinstance(va, int | float) and isinstance(vb, int | float) and va:
            change = (vb - va) / va
            better = (change > 0) == higher_is_better
            verdict = f"{change:+.1%} ({'better' if better else 'worse'})" if change else "same"
        else:
            verdict = "N/A"
        lines.append(f"{label:<16}{_cell(va):>{width}}  {_cell(vb):>{width}}  {verdict}")
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, int | float):
        return f"{value:,.4g}" if value < 1 else f"{value:,.2f}"
    return "N/A"
