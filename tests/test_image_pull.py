"""An image pull as the user sees it: layers and bytes as the engine reports them, and a
failure in words."""

from __future__ import annotations

import secrets

import pytest

from tests.support.helpers import free_port
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core.errors import EngineFailed
from vtui.core.image_pull import PullProgress, pull_problem
from vtui.core.records import RunRequest

IMAGE = "vllm/vllm-openai:v0.33.0"


def downloading(layer: str, current: int, total: int) -> dict[str, object]:
    return {
        "status": "Downloading",
        "progressDetail": {"current": current, "total": total},
        "progress": "[=>   ]",
        "id": layer,
    }


def test_progress_counts_layers_and_bytes_as_the_engine_reports_them() -> None:
    # The engine's own event shapes (docker pull's JSON stream), two layers.
    events = [
        {"status": "Pulling from vllm/vllm-openai", "id": "v0.33.0"},
        {"status": "Pulling fs layer", "progressDetail": {}, "id": "a1"},
        {"status": "Pulling fs layer", "progressDetail": {}, "id": "b2"},
        downloading("a1", 1_000_000_000, 4_000_000_000),
        downloading("b2", 500_000_000, 1_000_000_000),
    ]
    pull = PullProgress(IMAGE)
    for event in events:
        pull.feed(event)
    assert pull.describe() == f"pulling {IMAGE}: 0 of 2 layers, 1.5 of 5.0 GB"
    assert pull.fraction == pytest.approx(0.3)
    for event in (
        {"status": "Download complete", "progressDetail": {}, "id": "b2"},
        {"status": "Extracting", "progressDetail": {"current": 1, "total": 10}, "id": "b2"},
        {"status": "Pull complete", "progressDetail": {}, "id": "b2"},
    ):
        pull.feed(event)
    assert pull.describe() == f"pulling {IMAGE}: 1 of 2 layers, 2.0 of 5.0 GB"
    pull.feed({"status": "Status: Downloaded newer image for vllm/vllm-openai:v0.33.0"})
    assert pull.finished and pull.error is None
    pull.feed({"errorDetail": {"message": "unexpected EOF"}, "error": "unexpected EOF"})
    assert pull.error == "unexpected EOF"


def test_pull_failures_say_what_they_mean() -> None:
    offline = pull_problem(IMAGE, 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup '
                           "registry-1.docker.io: no such host")  # fmt: skip
    assert "the registry cannot be reached from this machine" in offline
    assert f"docker save {IMAGE} | ssh THIS-HOST docker load" in offline
    missing = pull_problem("vllm/vllm-openai:v9", "manifest for vllm/vllm-openai:v9 not found: "
                           "manifest unknown")  # fmt: skip
    assert "no such image or tag" in missing
    private = pull_problem("me/private:1", "pull access denied for me/private, repository does "
                           "not exist or may require 'docker login'")  # fmt: skip
    assert "`docker login` first" in private


@pytest.mark.engine
def test_a_missing_image_is_pulled_and_an_unreachable_registry_is_explained(
    docker_engine: DockerEngine,
) -> None:
    name = f"vtui-test-{secrets.token_hex(3)}"
    request = RunRequest(
        image=f"vtui-test/never-built:{secrets.token_hex(3)}",
        name=name,
        command=(),
        host="127.0.0.1",
        host_port=free_port(),
        container_port=8000,
    )
    with pytest.raises(EngineFailed) as failure:
        docker_engine.run(request)
    message = str(failure.value)
    assert message.startswith(f"cannot pull {request.image}: ")
    # No registry is reachable from CI; were one reachable, it would refuse the made-up name.
    assert "the registry cannot be reached" in message or "the registry refused" in message
    assert name not in {d.name for d in docker_engine.list_deployments()}


def test_the_reporter_shows_a_burst_of_events_once() -> None:
    from vtui.services.launching import pull_reporter

    shown: list[str] = []
    listen = pull_reporter(IMAGE, 60.0, lambda pull: shown.append(pull.describe()))
    for current in range(0, 1_000_000_000, 10_000_000):
        listen(downloading("a1", current, 1_000_000_000))
    assert shown == [f"pulling {IMAGE}: 0 of 1 layers, 0.0 of 1.0 GB"]
