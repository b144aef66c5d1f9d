"""`vtui export`: a profile as Kubernetes objects, production-stack Helm values, a
LeaderWorkerSet or a Ray cluster script, each checked before it is written (the Kubernetes
OpenAPI schemas through kubernetes-validate, offline), and each carrying the very vLLM
command the compose file runs, however hostile the profile's values."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.helpers import run_vtui
from vtui.backends.files.profile_store import ProfileStore
from vtui.core import exports
from vtui.core.exports import ExportProblem
from vtui.core.launch_spec import LaunchSpec, literal_environment, vllm_arguments
from vtui.services import exporting
from vtui.services.exporting import render

ONE_GPU = LaunchSpec(name="small", model="Qwen/Qwen3-8B", gpus=(0,), hf_cache="/srv/hf")
TP8 = LaunchSpec(
    name="Qwen3_32B.tp8",
    model="Qwen/Qwen3-32B",
    args={"--tensor-parallel-size": 8, "--max-model-len": 32768, "--enable-prefix-caching": True},
)
TP8_PP2 = LaunchSpec(
    name="big",
    model="Qwen/Qwen3-235B-A22B",
    args={"--tensor-parallel-size": 8, "--pipeline-parallel-size": 2},
)
HOSTILE = LaunchSpec(
    name="hostile",
    model="Qwen/Qwen3-8B",
    served_model_name='it\'s "quoted" $(HOME) ${PATH} $$ `id`\nnext line: {a: b} # no',
    env={"SECRET_LOOKING": "$(VLLM_API_KEY) '\"' \\ \n -- --x"},
    extra_args=("--chat-template", "{{ '$x' }}\n{% if a %}: - [b]{% endif %}"),
)


RAY_EXECUTOR = ["--distributed-executor-backend", "ray"]


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def kubelet_reads(value: str) -> str:
    """What Kubernetes hands the container for a command, arg or env value: $$ is '$'."""
    return value.replace("$$", "$")


def container(doc: dict[str, Any]) -> dict[str, Any]:
    [only] = doc["spec"]["template"]["spec"]["containers"]
    return only


@pytest.mark.parametrize("spec", [ONE_GPU, TP8, HOSTILE], ids=["1-gpu", "tp8", "hostile"])
def test_k8s_export_validates_and_runs_the_compose_files_command(spec: LaunchSpec) -> None:
    done = render(spec, "k8s")
    assert "Kubernetes 1.33 OpenAPI schemas (strict)" in done.validated_for
    deployment, service, claim = documents(done.text)
    assert [deployment["kind"], service["kind"], claim["kind"]] == [
        "Deployment", "Service", "PersistentVolumeClaim",
    ]  # fmt: skip
    vllm = container(deployment)
    assert [kubelet_reads(a) for a in vllm["args"]] == vllm_arguments(spec, in_container=True)
    env = {e["name"]: e for e in vllm["env"]}
    for name, value in literal_environment(spec).items():
        assert kubelet_reads(env[name]["value"]) == value
    # The key comes from a Secret the manifest names; no value of it anywhere.
    assert env["VLLM_API_KEY"] == {
        "name": "VLLM_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": done.secret, "key": "api-key"}},
    }
    assert service["spec"]["type"] == "ClusterIP"
    assert vllm["startupProbe"]["httpGet"]["path"] == "/health"
    assert {"name": "dshm", "mountPath": "/dev/shm"} in vllm["volumeMounts"]


def test_gpus_are_requested_as_the_layout_needs_them() -> None:
    one = container(documents(render(ONE_GPU, "k8s").text)[0])
    assert one["resources"] == {"limits": {"nvidia.com/gpu": 1}}
    eight = container(documents(render(TP8, "k8s").text)[0])
    assert eight["resources"] == {"limits": {"nvidia.com/gpu": 8}}
    assert documents(render(TP8, "k8s").text)[0]["metadata"]["name"] == "qwen3-32b-tp8"


def test_a_layout_across_nodes_goes_to_a_leaderworkerset_not_a_deployment() -> None:
    with pytest.raises(ExportProblem, match=r"--pipeline-parallel-size 2 spans 2 nodes.*--to lws"):
        render(TP8_PP2, "k8s")
    with pytest.raises(ExportProblem, match="--to lws"):
        render(TP8_PP2, "helm")
    done = render(TP8_PP2, "lws")
    assert "LeaderWorkerSet's own fields" in done.validated_for
    lws, service, claim = documents(done.text)
    group = lws["spec"]["leaderWorkerTemplate"]
    assert group["size"] == 2 and group["restartPolicy"] == "RecreateGroupOnPodRestart"
    [leader] = group["leaderTemplate"]["spec"]["containers"]
    [worker] = group["workerTemplate"]["spec"]["containers"]
    assert leader["resources"] == worker["resources"] == {"limits": {"nvidia.com/gpu": 8}}
    script = kubelet_reads(leader["command"][2])
    ray, _, serve = script.partition(" && exec ")
    assert ray == "ray start --head --port=6379"
    args = vllm_arguments(TP8_PP2, in_container=True)
    assert shlex.split(serve) == [
        "vllm",
        "serve",
        *args[1:],
        "--distributed-executor-backend",
        "ray",
    ]
    assert "$(LWS_LEADER_ADDRESS):6379" in worker["command"][2]  # kubelet fills it in
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # every node reads the model
    assert service["spec"]["selector"]["vtui.io/role"] == "leader"


def test_a_hostile_profile_still_parses_back_to_the_same_command_in_a_leaderworkerset() -> None:
    done = render(HOSTILE, "lws")
    [leader] = documents(done.text)[0]["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"][
        "containers"
    ]
    serve = kubelet_reads(leader["command"][2]).partition(" && exec ")[2]
    args = vllm_arguments(HOSTILE, in_container=True)
    assert shlex.split(serve) == [
        "vllm",
        "serve",
        *args[1:],
        "--distributed-executor-backend",
        "ray",
    ]


def test_helm_values_fill_production_stacks_model_spec() -> None:
    done = render(TP8, "helm")
    [values] = documents(done.text)
    [entry] = values["servingEngineSpec"]["modelSpec"]
    assert entry["modelURL"] == "Qwen/Qwen3-32B" and entry["requestGPU"] == 8
    assert entry["repository"] == "vllm/vllm-openai" and entry["tag"].startswith("v")
    assert entry["vllmConfig"] == {
        "tensorParallelSize": 8, "maxModelLen": 32768, "enablePrefixCaching": True,
    }  # fmt: skip
    assert values["servingEngineSpec"]["vllmApiKey"] == {
        "secretName": "qwen3-32b-tp8-api-key", "secretKey": "api-key",
    }  # fmt: skip
    hostile = documents(render(HOSTILE, "helm").text)[0]["servingEngineSpec"]["modelSpec"][0]
    assert hostile["vllmConfig"]["extraArgs"] == [
        "--served-model-name", HOSTILE.served_model_name, *HOSTILE.extra_args,
    ]  # fmt: skip


def test_the_validators_refuse_what_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    broken, unknown = exports.k8s_objects(ONE_GPU), exports.k8s_objects(ONE_GPU)
    container(broken[0])["resources"] = {"limits": {"nvidia.com/gpu": [1]}}
    monkeypatch.setattr(exports, "k8s_objects", lambda _spec: broken)
    with pytest.raises(ExportProblem, match="Deployment spec/template/spec/containers/0"):
        render(ONE_GPU, "k8s")
    unknown[1]["spec"]["typo"] = True  # strict: a field Kubernetes does not know
    monkeypatch.setattr(exports, "k8s_objects", lambda _spec: unknown)
    with pytest.raises(ExportProblem, match="Service"):
        render(ONE_GPU, "k8s")
    bad_lws = exports.lws_object(TP8_PP2)
    bad_lws[0]["spec"]["leaderWorkerTemplate"]["size"] = 0
    monkeypatch.setattr(exports, "lws_object", lambda _spec: bad_lws)
    with pytest.raises(ExportProblem, match="LeaderWorkerSet spec/leaderWorkerTemplate/size"):
        render(TP8_PP2, "lws")


def test_what_cannot_be_exported_is_named() -> None:
    with pytest.raises(ExportProblem, match="model: /data/m is a directory on this machine"):
        render(LaunchSpec(name="local", model="/data/m"), "k8s")
    with pytest.raises(ExportProblem, match=r"supported: 1\.25, .*1\.37"):
        render(ONE_GPU, "k8s", "1.10")
    with pytest.raises(ExportProblem, match="extra: unknown vLLM argument --no-such-flag"):
        render(LaunchSpec(name="x", model="a/b", extra_args=("--no-such-flag",)), "k8s")
    with pytest.raises(ExportProblem, match="unknown target 'nomad'; supported: compose"):
        render(ONE_GPU, "nomad")


def test_a_layout_the_model_cannot_take_is_refused_naming_the_field() -> None:
    from vtui.core.model_facts import ModelFacts

    tp3 = LaunchSpec(name="odd", model="Qwen/Qwen3-8B", args={"--tensor-parallel-size": 3})
    facts = ModelFacts(num_attention_heads=32)
    for target in ("k8s", "lws", "ray-cluster"):
        with pytest.raises(
            ExportProblem, match=r"--tensor-parallel-size: must divide the model's 32 attention"
        ):
            render(tp3, target, model=facts)
    assert render(tp3, "k8s")  # without the model's config, the profile alone is checked


@pytest.mark.parametrize("version", ["1.25", "1.29", "1.37"])
def test_the_tp8_manifest_validates_for_each_kubernetes_version(version: str) -> None:
    assert f"Kubernetes {version}" in render(TP8, "k8s", version).validated_for
    assert version in exporting.k8s_versions()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(min_size=1, max_size=40),
    value=st.text(max_size=60),
)
def test_fuzzed_values_still_yield_valid_manifests_with_the_same_argv(
    name: str, value: str
) -> None:
    spec = LaunchSpec(name="fuzz", model="org/model", served_model_name=name, env={"V": value})
    deployment = documents(render(spec, "k8s").text)[0]
    vllm = container(deployment)
    assert [kubelet_reads(a) for a in vllm["args"]] == vllm_arguments(spec, in_container=True)
    assert kubelet_reads({e["name"]: e for e in vllm["env"]}["V"]["value"]) == value


def test_the_ray_cluster_script_runs_each_role_with_the_same_command(tmp_path: Path) -> None:
    script = tmp_path / "cluster.sh"
    script.write_text(render(HOSTILE, "ray-cluster").text)
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    # A docker that records what it was asked, one argument per line.
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done > "$CALLS"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", "VLLM_HOST_IP": "10.0.0.2"}

    def role(*args: str, **extra: str) -> list[str]:
        calls = tmp_path / f"calls-{args[0]}"
        done = subprocess.run(["sh", str(script), *args], env={**env, "CALLS": str(calls), **extra},
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return calls.read_text().split("\0")[:-1]

    head = role("head")
    assert head[-1] == "ray start --block --head --port=6379" and "--network" in head
    assert "VLLM_HOST_IP=10.0.0.2" in head
    worker = role("worker", "10.0.0.1")
    assert worker[-1] == "ray start --block --address=10.0.0.1:6379"
    serve = role("serve", VLLM_API_KEY="k")
    args = vllm_arguments(HOSTILE, in_container=True)
    assert serve[serve.index("vllm"):] == [
        "vllm", "serve", *args[1:], "--distributed-executor-backend", "ray",
    ]  # fmt: skip
    refused = subprocess.run(["sh", str(script), "serve"], env={**env, "CALLS": "/dev/null"},
                             capture_output=True, text=True)  # fmt: skip
    assert refused.returncode != 0 and "export VLLM_API_KEY first" in refused.stderr


def test_the_cli_writes_once_and_says_what_it_checked(tmp_path: Path) -> None:
    config = tmp_path / "config"
    ProfileStore(config / "vtui").create(TP8)
    env = {**os.environ, "XDG_CONFIG_HOME": str(config), "XDG_STATE_HOME": str(tmp_path / "s")}
    out = tmp_path / "qwen.yaml"
    done = run_vtui("export", TP8.name, "--to", "k8s", "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}: validated against the Kubernetes 1.33" in done.stdout
    assert "kubectl create secret generic qwen3-32b-tp8-api-key --from-file=api-key=" in done.stdout
    key = ProfileStore(config / "vtui").api_key(TP8.name)
    assert key not in out.read_text() and key not in done.stdout  # the key stays in its file
    again = run_vtui("export", TP8.name, "--to", "k8s", "-o", str(out), env=env)
    assert again.returncode == 1 and "exists; vtui does not overwrite it" in again.stderr
    shown = run_vtui("export", TP8.name, "--to", "lws", "--k8s-version", "1.31", env=env)
    assert shown.returncode == 0 and "kind: LeaderWorkerSet" in shown.stdout
    assert "validated against the Kubernetes 1.31" in shown.stderr
