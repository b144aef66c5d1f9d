"""The plan of a launch over several hosts, before anything starts: the checks that refuse
a layout naming its field, what each node's container runs, and what a profile file or a
container label may not smuggle in."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from vtui.backends.engine.docker_engine import listen_address
from vtui.backends.files.profile_store import ProfileStore
from vtui.core import labels
from vtui.core.deployments import active_deployment, heads_first, node_note
from vtui.core.errors import ProfileError
from vtui.core.launch_checks import HostFacts, check
from vtui.core.launch_spec import LaunchSpec
from vtui.core.multinode import node_commands, node_requests, problems
from vtui.core.records import ContainerState, Deployment

SPEC = LaunchSpec(
    name="big",
    model="Qwen/Qwen3-8B",
    worker_hosts=("gpu-2",),
    head_address="10.0.0.1",
    args={"--tensor-parallel-size": 4, "--pipeline-parallel-size": 2},
)


def fields(spec: LaunchSpec, **gpus: int | None) -> dict[str, str]:
    return dict(problems(spec, gpus))


def test_a_layout_that_fits_is_not_refused() -> None:
    assert problems(SPEC, {"local": 8, "gpu-2": 8}) == []
    found = check(SPEC)
    assert not [p for p in found if p.blocks_launch]
    assert [p.field for p in found if p.caution] == ["worker_hosts"]  # Ray's open ports


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"args": {"--tensor-parallel-size": 4, "--pipeline-parallel-size": 3}},
         "--pipeline-parallel-size", "2 nodes need --pipeline-parallel-size 2"),
        ({"head_address": ""}, "head_address", "name the address"),
        ({"head_address": "10.0.0.1; rm -rf /"}, "head_address", "neither an IP"),
        ({"worker_hosts": ("gpu-2", "gpu-2")}, "worker_hosts", "named twice"),
        ({"docker_host": "gpu-2"}, "worker_hosts", "named twice"),
        ({"worker_hosts": ("-oProxyCommand=x",)}, "worker_hosts", "not a host name"),
        ({"ray_port": 8000, "port": 8000}, "ray_port", "not the server's port"),
        ({"runtime": "process"}, "worker_hosts", "process profile"),
        ({"gpus": (0, 1)}, "--tensor-parallel-size", "4 GPUs per node, but only 2"),
        ({"args": {"--tensor-parallel-size": 4, "--pipeline-parallel-size": 2,
                   "--data-parallel-size": 2}}, "--data-parallel-size", "profiles of their own"),
    ],
)  # fmt: skip
def test_a_layout_that_cannot_run_names_its_field(
    change: dict[str, object], field: str, words: str
) -> None:
    found = fields(replace(SPEC, **change))  # type: ignore[arg-type]
    assert field in found and words in found[field], found


def test_tensor_parallel_must_fit_inside_each_node() -> None:
    found = fields(SPEC, local=8, **{"gpu-2": 2})
    assert "gpu-2 has 2 GPUs" in found["--tensor-parallel-size"]
    # The one-node rule (TP x PP within this machine's GPUs) is not applied across nodes.
    assert not [p for p in check(SPEC, HostFacts(gpu_count=4)) if p.blocks_compose]


def test_the_head_waits_for_every_node_then_serves_the_profile_s_own_arguments() -> None:
    head, worker = node_requests(SPEC, "sk-secret", {"HF_TOKEN": "hf_x"})
    assert (head.host, head.role, worker.host, worker.role) == (
        "local",
        "head",
        "gpu-2",
        "worker-1",
    )
    request = head.request
    assert request.host_network and request.entrypoint is not None
    script = request.entrypoint[2]
    assert "ray start --head --port=6379 --num-gpus=4" in script
    assert "ray status --address=10.0.0.1:6379" in script and "-ge 2 ] && break" in script
    assert script.rstrip().endswith('exec vllm serve "$@"')
    # The command is vLLM's arguments alone, listening where the profile publishes.
    argv = list(request.command)
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "8000"
    assert argv[-2:] == ["--distributed-executor-backend", "ray"]
    assert request.labels[labels.LISTEN] == "127.0.0.1:8000"
    assert request.labels[labels.PROFILE] == "big"
    # The worker joins the head; it has no key and is not the profile's server.
    join = worker.request
    assert join.entrypoint is not None and join.entrypoint[:2] == ("/bin/sh", "-c")
    assert "until ray status --address=10.0.0.1:6379" in join.entrypoint[2]
    assert (
        join.entrypoint[2]
        .rstrip()
        .endswith("exec ray start --block --address=10.0.0.1:6379 --num-gpus=4")
    )
    assert "VLLM_API_KEY" not in join.environment and join.environment["HF_TOKEN"] == "hf_x"
    assert labels.PROFILE not in join.labels and join.labels[labels.GROUP] == "big"
    assert join.name == "vtui-big-worker-1"


def test_the_head_script_is_valid_sh_and_ends_after_its_wait(tmp_path: Path) -> None:
    """Run for real with a `ray` that never sees a worker: it says so and exits 3."""
    (tmp_path / "ray").write_text('#!/bin/sh\n[ "$1" = status ] && echo " 1 node_a"\nexit 0\n')
    (tmp_path / "ray").chmod(0o755)
    head = node_requests(SPEC, "k", {})[0].request
    assert head.entrypoint is not None
    done = subprocess.run(
        [*head.entrypoint, *head.command],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "VTUI_NODE_WAIT": "1"},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        "vtui: 1 of 2 Ray nodes joined",
        "vtui: only 1 of 2 Ray nodes joined in 1 s: start the workers, and check that "
        "they reach 10.0.0.1:6379",
    ]


def test_a_worker_waits_for_its_head_then_joins_once(tmp_path: Path) -> None:
    """Run for real with a `ray` whose head answers on the third ask."""
    (tmp_path / "ray").write_text(
        '#!/bin/sh\necho "$@" >> "$LOG"\n[ "$1" = status ] || exit 0\n'
        'n=$(grep -c status "$LOG"); [ "$n" -ge 3 ]\n'
    )
    (tmp_path / "ray").chmod(0o755)
    log = tmp_path / "calls"
    worker = node_requests(SPEC, "k", {})[1].request
    assert worker.entrypoint is not None
    done = subprocess.run(
        list(worker.entrypoint), capture_output=True, text=True, timeout=30,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "LOG": str(log)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    calls = log.read_text().splitlines()
    assert calls[:3] == ["status --address=10.0.0.1:6379"] * 3
    assert calls[3:] == ["start --block --address=10.0.0.1:6379 --num-gpus=4"]
    # No head at all: it says so once its wait is over.
    (tmp_path / "ray").write_text("#!/bin/sh\nexit 1\n")
    gone = subprocess.run(
        list(worker.entrypoint), capture_output=True, text=True, timeout=30,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "VTUI_NODE_WAIT": "1"},
    )  # fmt: skip
    assert gone.returncode == 3
    assert gone.stdout.strip() == "vtui: no Ray head answered at 10.0.0.1:6379 in 1 s"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('worker_hosts = ["gpu-2\\u001b[31m"]', "not a host name"),
        ('worker_hosts = "gpu-2"', "wrong type"),
        ('worker_hosts = ["gpu-2"]\nhead_address = "10.0.0.1\\n"', "neither an IP"),
        ('worker_hosts = ["gpu-2"]\nray_port = true', "ray_port"),
        ('worker_hosts = ["gpu-2"]\nray_port = 99999', "ray_port"),
    ],
)
def test_a_hostile_profile_file_is_refused_whole(tmp_path: Path, line: str, words: str) -> None:
    store = ProfileStore(tmp_path)
    store.profiles_dir.mkdir(parents=True)
    store.path("p").write_text(f'model = "Qwen/Qwen3-8B"\n{line}\n')
    with pytest.raises(ProfileError, match=words):
        store.load("p")


def test_a_profile_of_several_nodes_round_trips(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.create(replace(SPEC, ray_port=6400))
    assert store.load("big") == replace(SPEC, ray_port=6400, hf_cache="")
    # One node: nothing new in the file, and the same spec hash as before.
    single = LaunchSpec(name="one", model="Qwen/Qwen3-8B")
    store.create(single)
    assert "worker_hosts" not in store.path("one").read_text()
    assert single.spec_hash() == replace(single, ray_port=7000).spec_hash()


@pytest.mark.parametrize(
    ("label", "found"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("::1:8001", ("::1", 8001)),
        ("evil.example:80", None),
        ("127.0.0.1:0", None),
        ("127.0.0.1:\uff18\uff10", None),
        ("127.0.0.1:8000\n", None),
        ("1" * 100, None),
        (8000, None),
    ],
)
def test_a_listen_label_is_taken_only_as_an_address_and_a_port(
    label: object, found: tuple[str, int] | None
) -> None:
    assert listen_address(label) == found


def _deployment(name: str, **label: str) -> Deployment:
    return Deployment(
        container_id=name, name=name, image="i", model="m", state=ContainerState.RUNNING,
        host="", port=None, labels={labels.MANAGED: "true", **label},
    )  # fmt: skip


def test_workers_are_listed_under_their_head_and_never_chosen_as_the_server() -> None:
    group = {labels.GROUP: "big"}
    w2 = _deployment("vtui-big-worker-2", **group, **{labels.NODE: "worker-2"})
    w1 = _deployment("vtui-big-worker-1", **group, **{labels.NODE: "worker-1"})
    other = _deployment("vtui-other")
    head = _deployment("vtui-big", **group, **{labels.NODE: "head", labels.PROFILE: "big"})
    ordered = heads_first([w2, other, w1, head])
    assert [d.name for d in ordered] == [
        "vtui-other",
        "vtui-big",
        "vtui-big-worker-1",
        "vtui-big-worker-2",
    ]
    assert node_note(w1) == "worker-1 of big" and node_note(head) is None
    chosen = active_deployment([w1, w2, head])
    assert chosen is not None and chosen.name == "vtui-big"
    # A worker whose head is not listed stays in the list.
    assert [d.name for d in heads_first([w1])] == ["vtui-big-worker-1"]


def test_the_preview_says_what_each_node_runs_in_the_order_vtui_starts_them() -> None:
    text = node_commands(SPEC)
    assert text.index("# head on local") < text.index("# worker-1 on gpu-2")
    assert "exec vllm serve" in text and "--distributed-executor-backend ray" in text
    assert "ray start --block --address=10.0.0.1:6379" in text
    assert "sk-" not in text and "VLLM_API_KEY=" not in text  # no key, not even its slot
