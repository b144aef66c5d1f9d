"""An image pull as people want to see it: layers done, bytes fetched of bytes known, and in
plain words why it failed.

The Docker engine reports a pull as a stream of JSON events, one per layer update
("Pulling fs layer", "Downloading" with current/total bytes, "Pull complete", ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_DONE = {"Pull complete", "Already exists", "Download complete", "Extracting"}
_FINISHED = {"Pull complete", "Already exists"}


@dataclass
class _Layer:
    total: int | None = None
    fetched: int = 0
    status: str = ""


@dataclass
class PullProgress:
    image: str
    layers: dict[str, _Layer] = field(default_factory=dict)
    error: str | None = None
    finished: bool = False

    def feed(self, event: dict[str, Any]) -> None:
        if event.get("error") or event.get("errorDetail"):
            detail = event.get("errorDetail") or {}
            self.error = str(detail.get("message") or event.get("error"))
            return
        status = str(event.get("status", ""))
        if status.startswith(("Digest:", "Status:")):
            self.finished = self.finished or status.startswith("Status:")
            return
        layer_id = event.get("id")
        # The first event names the tag, not a layer ("Pulling from vllm/vllm-openai").
        if not layer_id or status.startswith("Pulling from"):
            return
        layer = self.layers.setdefault(str(layer_id), _Layer())
        layer.status = status
        detail = event.get("progressDetail") or {}
        if status == "Downloading":
            if detail.get("total"):
                layer.total = int(detail["total"])
            if detail.get("current") is not None:
                layer.fetched = int(detail["current"])
        elif status in _DONE and layer.total is not None:
            layer.fetched = layer.total

    @property
    def layers_done(self) -> int:
        return sum(1 for layer in self.layers.values() if layer.status in _FINISHED)

    @property
    def fraction(self) -> float | None:
        """Bytes fetched of the bytes known so far; None until a layer says its size."""
        sized = [layer for layer in self.layers.values() if layer.total]
        if not sized:
            return None
        total = sum(layer.total or 0 for layer in sized)
        return min(1.0, sum(layer.fetched for layer in sized) / total)

    def describe(self) -> str:
        """'pulling vllm/vllm-openai:v0.33.0: 3 of 12 layers, 1.2 of 8.4 GB'."""
        if not self.layers:
            return f"pulling {self.image}"
        sized = [layer for layer in self.layers.values() if layer.total]
        text = f"pulling {self.image}: {self.layers_done} of {len(self.layers)} layers"
        if sized:
            fetched = sum(layer.fetched for layer in sized)
            total = sum(layer.total or 0 for layer in sized)
            text += f", {fetched / 1e9:.1f} of {total / 1e9:.1f} GB"
        return text


_UNREACHABLE = (
    "dial tcp",
    "no such host",
    "i/o timeout",
    "TLS handshake timeout",
    "connection refused",
    "network is unreachable",
    "Client.Timeout",
    "server misbehaving",
)


def pull_problem(image: str, message: str) -> str:
    """The engine's pull error as what it means and what to do."""
    text = message.strip()
    if any(marker.lower() in text.lower() for marker in _UNREACHABLE):
        return (
            f"cannot pull {image}: the registry cannot be reached from this machine "
            f"({_first_line(text)}). Bring the image over from a machine that has it: "
            f"docker save {image} | ssh THIS-HOST docker load"
        )
    if "manifest unknown" in text or "not found" in text.lower():
        return (
            f"cannot pull {image}: the registry has no such image or tag "
            f"({_first_line(text)}). Check the image name and tag in the profile."
        )
    if "pull access denied" in text or "unauthorized" in text.lower():
        return (
            f"cannot pull {image}: the registry refused ({_first_line(text)}). The image "
            "does not exist or is private: `docker login` first."
        )
    return f"cannot pull {image}: {_first_line(text)}"


def _first_line(text: str) -> str:
    line = text.splitlines()[0] if text else "no reason given"
    return line[:240]
