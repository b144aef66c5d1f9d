"""Launching a profile: saved, rendered with its key, run on the engine. One path for the
Launch screen, the Server screen's one-key fix and `vtui up`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from vtui.backends.engine import ContainerEngine, PullListener
from vtui.backends.files.profile_store import ProfileStore
from vtui.core.image_pull import PullProgress
from vtui.core.launch_spec import LaunchSpec, run_request
from vtui.core.records import Deployment


def launch(
    engine: ContainerEngine,
    store: ProfileStore,
    spec: LaunchSpec,
    on_pull: PullListener | None = None,
) -> Deployment:
    """Raises ProfileError, BackendUnavailable, ValueError (refused), RuntimeError (engine)."""
    store.put(spec)
    request = run_request(spec, store.api_key(spec.name), os.environ)
    return engine.run(request, on_pull)


def pull_reporter(image: str, every: float, show: Callable[[PullProgress], None]) -> PullListener:
    """A listener that keeps the pull's progress and shows it at most once per `every`
    seconds: the engine sends an event per layer update, far more than anyone can read."""
    progress = PullProgress(image)
    shown_at = [float("-inf")]

    def listen(event: dict[str, Any]) -> None:
        progress.feed(event)
        if time.monotonic() - shown_at[0] >= every:
            shown_at[0] = time.monotonic()
            show(progress)

    return listen
