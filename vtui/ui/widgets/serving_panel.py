"""The Server screen's serving figures from /metrics: load, KV cache, throughput, latency,
each beside a sparkline of its last minutes."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from vtui.core.bars import sparkline
from vtui.core.serving_stats import ServingView, count_text, percent_text, seconds_text
from vtui.services.serving import ABSENT, MALFORMED, READING, UNREACHABLE, ServingUpdate

WIDE = 60  # from this width the figures sit in two columns
LABEL = 10
NOTHING_YET = "\u2013"  # reported, but no request in the window to measure


def _scaled(series: tuple[float | None, ...], top: float) -> list[float | None]:
    return [None if v is None else v / top for v in series] if top > 0 else list(series)


def _latency(view: ServingView, name: str) -> str:
    if name in view.missing:
        return "N/A"
    p50, p99 = getattr(view, f"{name}_p50"), getattr(view, f"{name}_p99")
    if p50 is None:
        return NOTHING_YET
    under50, under99 = getattr(view, f"{name}_p50_under"), getattr(view, f"{name}_p99_under")
    if under99 is not None:  # every one below the lowest bucket: only the mean is a figure
        mean = getattr(view, f"{name}_mean")
        return f"mean {seconds_text(mean)} \u00b7 all < {seconds_text(under99)}"
    first = f"< {seconds_text(under50)}" if under50 is not None else seconds_text(p50)
    return f"p50 {first} \u00b7 p99 {seconds_text(p99)}"


def _cells(view: ServingView) -> list[tuple[str, str, list[float | None] | None, str]]:
    """(label, value, sparkline values 0..1 or None, sparkline colour), in reading order."""
    running_top = max([v for v in view.running_series if v is not None] + [1.0])
    generation_top = max([v for v in view.generation_series if v is not None] + [0.0])
    if "running" in view.missing:
        requests = "N/A"
    else:
        requests = f"{count_text(view.running)} running \u00b7 {count_text(view.waiting)} waiting"
    if "prompt_tokens" in view.missing and "generation_tokens" in view.missing:
        tokens = "N/A"
    else:
        prompt = NOTHING_YET if view.prompt_tps is None else f"{view.prompt_tps:,.0f}"
        out = NOTHING_YET if view.generation_tps is None else f"{view.generation_tps:,.0f}"
        tokens = f"in {prompt} \u00b7 out {out}"
    if "prefix_queries" in view.missing:
        prefix = "N/A"
    elif view.prefix_hit_rate is None:
        prefix = NOTHING_YET
    else:
        prefix = f"{percent_text(view.prefix_hit_rate)} hit"
    preempted = count_text(view.preemptions)
    if view.preempted_recently:
        preempted += f" ({view.preempted_recently:,.0f} recently)"
    return [
        ("Requests", requests, _scaled(view.running_series, running_top), "magenta"),
        ("Tokens/s", tokens, _scaled(view.generation_series, generation_top), "green"),
        ("KV cache", percent_text(view.kv_usage), list(view.kv_series), "cyan"),
        ("TTFT", _latency(view, "ttft"), None, ""),
        ("Prefix", f"{prefix} \u00b7 {preempted} preempted", None, ""),
        ("ITL", _latency(view, "itl"), None, ""),
    ]


def _cell(
    label: str, value: str, spark: list[float | None] | None, colour: str, width: int
) -> Text:
    text = Text.assemble((f"{label:<{LABEL}}", "bold"), value)
    room = width - text.cell_len - 2
    if spark is not None and room >= 4:
        text.append("  ")
        text.append(sparkline(spark, min(room, 40)), style=colour)
    text.truncate(width, pad=True)
    return text


def serving_text(update: ServingUpdate | None, width: int) -> Text:
    title = Text("Serving  ", style="bold")
    if update is None or update.state == READING:
        return title.append("reading /metrics\u2026", style="dim")
    if update.state == ABSENT:
        return title.append(
            "this server has no /metrics: no serving figures (the load test, b, still works)",
            style="dim",
        )
    view = update.view
    if update.state in (UNREACHABLE, MALFORMED):
        title.append(f"{update.problem}; retrying", style="yellow")
    elif view is not None:
        span = f"last {view.window_seconds:.0f} s" if view.window_seconds else "one reading"
        title.append(f"from /metrics, every 2 s \u00b7 latency of the {span}", style="dim")
    title.truncate(width, overflow="ellipsis")
    if view is None:
        return title
    cells = _cells(view)
    lines = [title]
    if width >= WIDE:  # sparklines only where there is room beside the figures
        column = (width - 2) // 2
        for left, right in zip(cells[0::2], cells[1::2], strict=True):
            lines.append(Text.assemble(_cell(*left, column), "  ", _cell(*right, column)))
    else:
        lines += [_cell(*cell, width) for cell in cells]
    return Text("\n").join(lines)


class ServingPanel(Widget):
    """Shown while the chosen deployment serves; `show` takes each reading."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.update_shown: ServingUpdate | None = None
        self._shape: tuple[str, bool] | None = None

    def show(self, update: ServingUpdate | None) -> None:
        # The panel's height follows its state and whether it has figures; a new reading of
        # the same kind keeps its lines, so only a change of those lays the screen out again
        # (width changes do their own).
        shape = (update.state, update.view is None) if update else None
        self.update_shown = update
        self.refresh(layout=shape != self._shape)
        self._shape = shape

    def render(self) -> RenderableType:
        return serving_text(self.update_shown, self.size.width or self.app.size.width)
