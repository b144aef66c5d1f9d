"""A LaunchSpec written three ways: docker-compose.yml, a `docker run` line, a `vllm serve` line."""

from __future__ import annotations

import shlex

from vtui.core.launch_spec import (
    HF_TOKEN_VAR,
    NO_GPU,
    LaunchSpec,
    container_labels,
    literal_environment,
    vllm_arguments,
    volumes,
)
from vtui.core.vllm_release import API_KEY_VAR, CONTAINER_PORT, VLLM_VERSION
from vtui.core.yaml_text import compose_value, quoted

SERVICE = "vllm"
# Compose stops with this message when the key is missing, instead of starting an open server.
API_KEY_ENTRY = f"{API_KEY_VAR}=${{{API_KEY_VAR}:?set {API_KEY_VAR} (vtui writes it to .env)}}"
# The vLLM image has python3 but not always curl; the URL is an argument so the probe
# needs no quotes of its own.
HEALTH_TEST = (
    "CMD",
    "python3",
    "-c",
    "import sys,urllib.request as u;u.urlopen(sys.argv[1],timeout=5)",
    f"http://127.0.0.1:{CONTAINER_PORT}/health",
)
# Model loading can take minutes: failures in this window do not count against the server.
HEALTH_START_PERIOD = "600s"

DIFFERENCES = (
    "Where this file differs from a hand-written one, and why:",
    "- The port is published on {host} only{exposure}.",
    "- The API key comes from {key} (in .env beside this file, mode 0600), never from",
    "  the command line, where `ps` and `docker inspect` would show it to anyone.",
    "- HF_TOKEN is passed by name from your shell; its value is never written here.",
    "- ipc: host, because vLLM's tensor-parallel workers share memory through /dev/shm.",
    "- --served-model-name names the model for the API (not /app/model), and --host",
    "  0.0.0.0 is explicit: inside the container vLLM must listen on every interface.",
    "- A healthcheck on /health, and labels that mark the container as vtui's.",
    "- The image is pinned to vLLM {version}, not :latest, so a pull cannot change it.",
)


def container_environment(spec: LaunchSpec) -> list[str]:
    """The environment entries as Compose should see them (before its '$$' unescaping)."""
    entries = [f"{name}={value}" for name, value in literal_environment(spec).items()]
    return [*entries, HF_TOKEN_VAR]


def render_compose(spec: LaunchSpec) -> str:
    exposure = (
        ": this machine only"
        if spec.host in ("127.0.0.1", "::1", "localhost")
        else " (you chose this; anyone who can reach it can use the model with the key)"
    )
    header = [
        f"# Written by vtui from profile {spec.name!r}. Start it with `docker compose up -d`.",
        "#",
        *(
            "# "
            + line.format(host=spec.host, exposure=exposure, key=API_KEY_VAR, version=VLLM_VERSION)
            for line in DIFFERENCES
        ),
    ]
    lines = [*header, "services:", f"  {SERVICE}:"]
    lines.append(f"    image: {compose_value(spec.image)}")
    lines.append(f"    container_name: {compose_value(spec.container)}")
    lines.append("    ipc: host")
    lines.append("    restart: unless-stopped")
    lines.append("    ports:")
    lines.append(f"      - {compose_value(spec.published_port)}")
    mounts = volumes(spec)
    if mounts:
        lines.append("    volumes:")
        for src, dst, mode in mounts:
            lines.append(f"      - {compose_value(f'{src}:{dst}:{mode}')}")
    lines.append("    environment:")
    for entry in container_environment(spec):
        lines.append(f"      - {compose_value(entry)}")
    lines.append(f"      - {quoted(API_KEY_ENTRY)}")
    lines.append("    command:")
    for token in vllm_arguments(spec, in_container=True):
        lines.append(f"      - {compose_value(token)}")
    lines += _gpu_reservation(spec)
    lines.append("    healthcheck:")
    lines.append("      test: [" + ", ".join(compose_value(t) for t in HEALTH_TEST) + "]")
    lines += [
        "      interval: 30s",
        "      timeout: 10s",
        "      retries: 3",
        f"      start_period: {HEALTH_START_PERIOD}",
    ]
    lines.append("    labels:")
    for key, value in container_labels(spec).items():
        lines.append(f"      {quoted(key)}: {compose_value(value)}")
    return "\n".join(lines) + "\n"


def _gpu_reservation(spec: LaunchSpec) -> list[str]:
    if spec.gpus == NO_GPU:
        return []
    lines = [
        "    deploy:",
        "      resources:",
        "        reservations:",
        "          devices:",
        "            - driver: nvidia",
    ]
    if spec.gpus == "all":
        lines.append("              count: all")
    else:
        ids = ", ".join(quoted(str(i)) for i in spec.gpus)
        lines.append(f"              device_ids: [{ids}]")
    lines.append("              capabilities: [gpu]")
    return lines


def docker_run_argv(spec: LaunchSpec) -> list[str]:
    argv = ["docker", "run", "-d", "--name", spec.container, "--ipc=host"]
    if spec.gpus == "all":
        argv += ["--gpus", "all"]
    elif spec.gpus != NO_GPU:
        # Docker splits --gpus on commas unless the device list is quoted inside the value.
        argv += ["--gpus", '"device=' + ",".join(str(i) for i in spec.gpus) + '"']
    argv += ["-p", spec.published_port]
    for src, dst, mode in volumes(spec):
        argv += ["-v", f"{src}:{dst}:{mode}"]
    for name, value in literal_environment(spec).items():
        argv += ["-e", f"{name}={value}"]
    # By name: docker takes their values from the shell that runs the line.
    argv += ["-e", HF_TOKEN_VAR, "-e", API_KEY_VAR]
    for key, value in container_labels(spec).items():
        argv += ["--label", f"{key}={value}"]
    argv += [
        "--health-cmd",
        shlex.join(HEALTH_TEST[1:]),
        "--health-start-period",
        HEALTH_START_PERIOD,
        "--restart",
        "unless-stopped",
        spec.image,
    ]
    return argv + vllm_arguments(spec, in_container=True)


# Put before a shell line that starts a server: with VLLM_API_KEY unset, `-e VLLM_API_KEY`
# would pass nothing and vLLM would serve anyone. The shell stops here instead, as the
# compose file's `${VLLM_API_KEY:?...}` makes compose stop.
KEY_GUARD = ': "${VLLM_API_KEY:?export VLLM_API_KEY first: its key is in ~/.config/vtui/keys}" && '


def render_docker_run(spec: LaunchSpec) -> str:
    """One shell line; `VLLM_API_KEY` and `HF_TOKEN` are taken from your shell by name, and
    the line refuses to start a server when VLLM_API_KEY is not exported."""
    return KEY_GUARD + shlex.join(docker_run_argv(spec))


def vllm_serve_argv(spec: LaunchSpec) -> list[str]:
    args = vllm_arguments(spec, in_container=False)
    # `vllm serve MODEL ...`: the model goes first, as people write it.
    return ["vllm", "serve", args[1], *args[2:]]


def render_vllm_serve(spec: LaunchSpec) -> str:
    """vLLM reads VLLM_API_KEY from the environment; the line refuses to run without it."""
    return KEY_GUARD + shlex.join(vllm_serve_argv(spec))
