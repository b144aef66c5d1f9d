"""The Launch form's fit line: GPU memory as a bar, the verdict, and the fix a key applies."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from vtui.core.fit import FitEstimate, Verdict
from vtui.core.fit_bar import part_sizes, segments
from vtui.core.kv_cache import GIB

STYLES = {
    "weights": "blue",
    "activations": "magenta",
    "graphs": "cyan",
    "kv": "green",
    "reserve": "grey42",
}
LEGEND = {
    "weights": "weights",
    "activations": "activations",
    "graphs": "CUDA graphs",
    "kv": "KV cache",
    "reserve": "left free",
}
VERDICT_STYLE = {
    Verdict.FITS: "bold green",
    Verdict.FEW_REQUESTS: "bold yellow",
    Verdict.CONTEXT_TOO_LONG: "bold red",
    Verdict.WEIGHTS_TOO_LARGE: "bold red",
    Verdict.REFUSED: "bold red",
    Verdict.UNKNOWN: "bold yellow",
}
BLOCK = "\u2588"


def render_fit(
    fit: FitEstimate, width: int, fix_key: str = "ctrl+f", measured: str | None = None
) -> Text:
    b = fit.budget
    text = Text()
    width = max(10, width)
    for part, cells in segments(b, width):
        text.append(BLOCK * cells, style=STYLES[part])
    text.append("\n")
    sizes = part_sizes(b)
    # The legend is laid out here, item by item, so a wrap never splits "KV cache 54.1".
    items = [(part, f"\u25a0 {label} {sizes[part] / GIB:.1f}") for part, label in LEGEND.items()]
    items.append(("", f"of {b.total / GIB:.1f} GiB per GPU"))
    used = 0
    for part, item in items:
        if used and used + 2 + len(item) > width:
            text.append("\n")
            used = 0
        elif used:
            text.append("  ")
            used += 2
        text.append(item[:1], style=STYLES.get(part, "dim"))
        text.append(item[1:], style="" if part else "dim")
        used += len(item)
    text.append("\n")
    text.append(fit.summary, style=VERDICT_STYLE[fit.verdict])
    if fit.advice and fit.verdict is not Verdict.FITS:
        text.append(f" \u00b7 {fit.advice[0]}", style="dim")
    if fit.length_note:
        text.append(f"\n{fit.length_note}", style="dim")
    if fit.fixes:
        text.append(f"\n{fix_key}: {fit.fixes[0].says}", style="bold")
    if fit.busy:
        text.append(f"\nnote: {fit.busy}", style="yellow")
    if b.measured_on:
        text.append(f"\nbudget measured by vLLM on this machine on {b.measured_on}", style="dim")
    if measured:
        text.append(f"\nprobe: {measured}", style="green")
    return text


class FitBar(Widget):
    """Shows an estimate, or why there is none yet, in words; drawn at its current width."""

    DEFAULT_CSS = "FitBar { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fit: FitEstimate | None = None
        self.why_not: str | None = None
        self.measured: str | None = None

    def show(
        self, fit: FitEstimate | None, why_not: str | None = None, measured: str | None = None
    ) -> None:
        self.fit, self.why_not, self.measured = fit, why_not, measured
        self.refresh(layout=True)

    def render(self) -> Text:
        if self.fit is None:
            return Text(f"Fit: {self.why_not or 'reading the model and the GPUs...'}", style="dim")
        return render_fit(self.fit, self.content_size.width, measured=self.measured)
