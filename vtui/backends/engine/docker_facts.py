"""What `vtui doctor` asks the real Docker engine: reachable or why not, its runtimes and
CDI devices, its data root and images, and whether a GPU container starts. Every call has
a deadline; nothing here raises."""

from __future__ import annotations

import contextlib
from typing import Any

from vtui.backends.engine.engine_address import engine_address, short_words, socket_problem
from vtui.core import labels
from vtui.core.doctor import EngineFacts, GpuRun
from vtui.core.terminal_text import visible
from vtui.core.units import plural

ANSWER_TIMEOUT = 5  # seconds for one API call
GPU_RUN_TIMEOUT = 90  # a cold container with the NVIDIA hook takes some seconds


def _text(value: object, limit: int = 200) -> str:
    return visible(str(value)[:limit])


def engine_facts(base_url: str | None = None) -> tuple[EngineFacts, Any]:
    """The facts, and the client to try a GPU container with (None when out of reach)."""
    where = engine_address(base_url)
    problem = socket_problem(where)
    if problem is not None:
        return EngineFacts(where=where, problem_kind=problem.kind, problem=problem.words), None
    try:
        import docker

        client = docker.DockerClient(base_url=where, timeout=ANSWER_TIMEOUT)
        version = client.version()
        info = client.info()
        images = client.api.images()
    except Exception as exc:  # docker-py lets the socket's own errors through
        return EngineFacts(where=where, problem_kind="other", problem=short_words(exc)), None
    runtimes = info.get("Runtimes") if isinstance(info, dict) else None
    cdi = info.get("DiscoveredDevices") if isinstance(info, dict) else None
    tags = [
        _text(tag)
        for image in images or []
        if isinstance(image, dict)
        for tag in image.get("RepoTags") or []
    ]
    facts = EngineFacts(
        where=where,
        version=_text(version.get("Version", "?"), 40) if isinstance(version, dict) else "?",
        runtimes=tuple(sorted(_text(r, 60) for r in runtimes))
        if isinstance(runtimes, dict)
        else (),
        default_runtime=_text(info.get("DefaultRuntime", ""), 60),
        cdi_devices=tuple(_text(d.get("ID", ""), 100) for d in cdi or [] if isinstance(d, dict))
        if isinstance(cdi, list)
        else (),
        data_root=_text(info.get("DockerRootDir", ""), 500),
        images=tuple(tags[:5000]),
    )
    return facts, client


def gpu_run(client: Any, image: str | None) -> GpuRun:
    """`nvidia-smi -L` with every GPU, in `image`, removed afterwards."""
    if client is None or image is None:
        return GpuRun(image=image)
    import docker

    container = None
    try:
        container = client.containers.create(
            image,
            entrypoint=["nvidia-smi", "-L"],
            device_requests=[docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])],
            labels={labels.DOCTOR: "true"},
        )
        container.start()
        result = container.wait(timeout=GPU_RUN_TIMEOUT)
        output = container.logs(stdout=True, stderr=True, tail=20).decode("utf-8", "replace")
        lines = [visible(line)[:160] for line in output.splitlines() if line.strip()]
        ok = result.get("StatusCode") == 0 and any(line.startswith("GPU ") for line in lines)
        gpus = sum(line.startswith("GPU ") for line in lines)
        summary = f"nvidia-smi -L lists {plural(gpus, 'GPU')}" if ok else ""
        return GpuRun(image=image, ok=ok, output=summary or (lines[-1] if lines else "no output"))
    except Exception as exc:
        explanation = getattr(exc, "explanation", None) or str(exc) or type(exc).__name__
        return GpuRun(image=image, output=_text(str(explanation).splitlines()[0]))
    finally:
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)
