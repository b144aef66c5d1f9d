"""Messages that carry backend results from worker threads to the app and its screens."""

from __future__ import annotations

from textual.message import Message

from vtui.core.records import Deployment


class DeploymentsRead(Message):
    """A fresh list of vtui's deployments, or the reason none could be read."""

    def __init__(self, deployments: list[Deployment], error: str | None) -> None:
        super().__init__()
        self.deployments = deployments
        self.error = error
