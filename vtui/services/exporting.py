"""`vtui export`: a profile rendered for a target and validated before a byte is written.

Kubernetes objects are checked against the Kubernetes OpenAPI schemas kubernetes-validate
ships (offline, one set per Kubernetes version, strict: an unknown field is an error). A
LeaderWorkerSet's pod templates are checked as PodTemplates there, and its own fields
against LWS_SCHEMA, written from the CRD of kubernetes-sigs/lws (config/crd/bases/
leaderworkerset.x-k8s.io_leaderworkersets.yaml, API leaderworkerset.x-k8s.io/v1). The Helm
values are checked against HELM_SCHEMA, written from the fields vtui uses of vLLM
production-stack's helm/values.schema.json (read at commit 01eaf92). Every vLLM flag is
checked against the pinned catalogue. YAML is written by PyYAML, never by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtui.core import exports
from vtui.core.exports import ExportProblem
from vtui.core.launch_spec import LaunchSpec
from vtui.core.model_facts import ModelFacts
from vtui.core.vllm_release import VLLM_VERSION

if TYPE_CHECKING:
    from vtui.backends.registry import Backends

DEFAULT_K8S = "1.33"
SUFFIXES = {"compose": "yml", "run": "sh", "serve": "sh", "ray-cluster": "sh"}
LWS_API = "leaderworkerset.x-k8s.io/v1"

_POSITIVE = {"type": "integer", "minimum": 1}
LWS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": LWS_API},
        "kind": {"const": "LeaderWorkerSet"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["leaderWorkerTemplate"],
            "properties": {
                "replicas": {"type": "integer", "minimum": 0},
                "startupPolicy": {"enum": ["LeaderCreated", "LeaderReady"]},
                "rolloutStrategy": {"type": "object"},
                "networkConfig": {"type": "object"},
                "leaderWorkerTemplate": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["workerTemplate"],
                    "properties": {
                        "size": _POSITIVE,
                        "restartPolicy": {"enum": ["RecreateGroupOnPodRestart", "None"]},
                        "leaderTemplate": {"type": "object"},
                        "workerTemplate": {"type": "object"},
                        "subGroupPolicy": {"type": "object"},
                        "volumeClaimTemplates": {"type": "array"},
                    },
                },
            },
        },
    },
}
_SECRET_REF = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"secretName": {"type": "string"}, "secretKey": {"type": "string"}},
}
_NUMBER = {"type": ["integer", "number", "string"]}
HELM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "servingEngineSpec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "vllmApiKey": _SECRET_REF,
                "modelSpec": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "repository", "tag", "modelURL"],
                        "properties": {
                            "name": {"type": "string"},
                            "repository": {"type": "string"},
                            "tag": {"type": "string"},
                            "modelURL": {"type": "string"},
                            "replicaCount": {"type": "integer"},
                            "requestCPU": {"type": "integer"},
                            "requestMemory": {"type": "string"},
                            "requestGPU": _NUMBER,
                            "pvcStorage": {"type": "string"},
                            "hf_token": _SECRET_REF,
                            "vllmConfig": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "maxModelLen": {"type": "integer"},
                                    "dtype": {"type": "string"},
                                    "enablePrefixCaching": {"type": "boolean"},
                                    "enableChunkedPrefill": {"type": "boolean"},
                                    "tensorParallelSize": {"type": "integer"},
                                    "gpuMemoryUtilization": _NUMBER,
                                    "maxNumSeqs": {"type": "integer"},
                                    "extraArgs": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


@dataclass(frozen=True)
class Export:
    target: str
    text: str
    validated_for: str  # what it was checked against, in words
    secret: str | None = None  # the Secret the manifests name for the API key


def k8s_versions() -> list[str]:
    """The Kubernetes versions with schemas here, oldest first (major.minor)."""
    from kubernetes_validate import utils

    seen = dict.fromkeys(utils.major_minor(v) for v in utils.all_versions())
    return list(seen)


def _checked_version(version: str) -> str:
    known = k8s_versions()
    if version not in known:
        raise ExportProblem(
            f"no Kubernetes schemas for {version!r} here; supported: {', '.join(known)}"
        )
    return version


def _validate_k8s(obj: dict[str, Any], version: str) -> None:
    import kubernetes_validate

    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = "/".join(str(p) for p in exc.path) or "(top)"
        raise ExportProblem(
            f"{obj.get('kind')} {where}: {exc.message} (Kubernetes {version} schema)"
        ) from None


def _validate_schema(obj: dict[str, Any], schema: dict[str, Any], what: str) -> None:
    import jsonschema

    try:
        jsonschema.validate(obj, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise ExportProblem(f"{what} {where}: {exc.message}") from None


def _yaml(objects: list[dict[str, Any]], header: list[str]) -> str:
    import yaml

    class PlainDumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # a label set used twice is written twice, not as &id001 / *id001

    body = yaml.dump_all(
        objects, Dumper=PlainDumper, sort_keys=False, width=1_000_000, allow_unicode=False
    )
    return "".join(f"# {line}\n" for line in header) + body


def model_facts_for(backends: Backends, spec: LaunchSpec) -> ModelFacts | None:
    """The model's facts for the layout checks: its config.json from the HF cache or the
    Hub; None when neither answers (the export then checks the profile alone)."""
    from vtui.core.model_config import facts_from_config
    from vtui.services.fitting import FitUnknown, find_model

    try:
        return facts_from_config(dict(find_model(backends, spec.model).config))
    except (FitUnknown, TypeError, ValueError, AttributeError):
        return None


def _check_profile(spec: LaunchSpec, model: ModelFacts | None) -> None:
    """What the profile says alone (the cluster's GPUs are not this machine's): a layout
    that cannot work, named by its field."""
    from vtui.core.launch_checks import HostFacts, check

    for problem in check(spec, HostFacts(), model):
        if not (problem.warning or problem.caution):
            raise ExportProblem(f"{problem.field}: {problem.message}")


def render(
    spec: LaunchSpec,
    target: str,
    k8s_version: str = DEFAULT_K8S,
    model: ModelFacts | None = None,
) -> Export:
    """The export, validated; `model` (its config's facts) lets the layout be checked
    against the model too. Raises ExportProblem naming the field or the target."""
    if target not in exports.TARGETS:
        raise ExportProblem(f"unknown target {target!r}; supported: {', '.join(exports.TARGETS)}")
    _check_profile(spec, model)  # every vLLM flag against the pinned catalogue among them
    catalogue = f"the vLLM {VLLM_VERSION} argument catalogue"
    if target in ("compose", "run", "serve"):
        from vtui.core.renderings import render_compose, render_docker_run, render_vllm_serve

        if target == "compose":
            text = render_compose(spec)
        else:
            text = (render_docker_run if target == "run" else render_vllm_serve)(spec) + "\n"
        return Export(target, text, catalogue)
    if target == "ray-cluster":
        return Export(target, exports.ray_cluster_script(spec), catalogue)
    version = _checked_version(k8s_version)
    name = exports.k8s_name(spec.name)
    secret = exports.api_key_secret(name)
    if target == "helm":
        values = exports.helm_values(spec)
        _validate_schema(values, HELM_SCHEMA, "values.yaml")
        said = f"production-stack's values.schema.json fields and {catalogue}"
        header = [
            f"vLLM production-stack values for profile {spec.name} (`vtui export --to helm`).",
            f"Checked against {said}.",
            f"First: {exports.secret_command(secret)}",
        ]
        return Export(target, _yaml([values], header), said, secret)
    objects = exports.k8s_objects(spec) if target == "k8s" else exports.lws_object(spec)
    for obj in objects:
        if obj["kind"] == "LeaderWorkerSet":
            _validate_schema(obj, LWS_SCHEMA, "LeaderWorkerSet")
            lwt = obj["spec"]["leaderWorkerTemplate"]
            for part in ("leaderTemplate", "workerTemplate"):
                _validate_k8s(
                    {"apiVersion": "v1", "kind": "PodTemplate",
                     "metadata": {"name": f"{name}-{part.lower()}"}, "template": lwt[part]},
                    version,
                )  # fmt: skip
        else:
            _validate_k8s(obj, version)
    said = f"the Kubernetes {version} OpenAPI schemas (strict) and {catalogue}"
    if target == "lws":
        said += f"; the LeaderWorkerSet's own fields against LWS {LWS_API}'s CRD"
    header = [
        f"Profile {spec.name}, by `vtui export --to {target}`. Checked against {said}.",
        f"First: {exports.secret_command(secret)}",
        f"(and, for gated models, a Secret {exports.HF_TOKEN_SECRET} with key 'token').",
    ]
    return Export(target, _yaml(objects, header), said, secret)


def default_file(spec: LaunchSpec, target: str) -> str:
    """The file name an export gets when the user names none: qwen-8b-k8s.yaml, say."""
    return f"{exports.k8s_name(spec.name)}-{target}.{SUFFIXES.get(target, 'yaml')}"


def write_export(backends: Backends, done: Export, asked: str | Path) -> Path:
    """The export at the path the user gave (in the output folder when relative), never
    over an existing file; scripts made executable. Raises FileExistsError, OSError."""
    from vtui.services.saving import output_path

    path = output_path(backends, asked)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as out:
        out.write(done.text)
    if path.suffix == ".sh":
        path.chmod(0o755)
    return path
