"""Launching a profile: saved, rendered with its key, run on the engine. One path for the
Launch screen, the Server screen's one-key fix and `vtui up`."""

from __future__ import annotations

import os

from vtui.backends.engine import ContainerEngine, PullListener
from vtui.backends.profile_store import ProfileStore
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
