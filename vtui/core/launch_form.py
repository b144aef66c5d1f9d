"""The Launch form's fields and the LaunchSpec they edit, both ways, with no UI in sight.

Each field has a key: a vLLM flag ("--max-model-len") or one of the spec's own fields
("model", "gpus", ...). A few vLLM flags are the spec's own fields under another name
(--served-model-name, --host, --port); --api-key is shown but never edited as text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vtui.core.arg_values import format_value, parse_value
from vtui.core.launch_checks import Problem, split_extra
from vtui.core.launch_spec import RUNTIMES, LaunchSpec, format_gpus, parse_gpus
from vtui.core.vllm_args import CATALOGUE, FORM_GROUPS, ArgSpec


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    help: str
    arg: ArgSpec | None = None  # the catalogue entry, for vLLM arguments

    @property
    def placeholder(self) -> str:
        if self.arg is None or self.arg.default in (None, "", [], {}):
            return "vLLM decides" if self.arg else ""
        return f"default {format_value(self.arg, self.arg.default)}"


SPEC_FIELDS: tuple[FormField, ...] = (
    FormField(
        "model",
        "model",
        "A Hub repo id (Qwen/Qwen3-8B), or a model directory on this "
        "machine, which is mounted read-only at /app/model.",
    ),
    FormField(
        "image", "image", "The vLLM image. Pinned to a release so a pull cannot change what runs."
    ),
    FormField(
        "gpus",
        "GPUs",
        "all, GPU indices such as 0,1 (see the GPU screen), or none (CPU builds of vLLM only).",
    ),
    FormField(
        "runtime",
        "runtime",
        "docker: a container of the image. process: `vllm serve` run on this machine, from "
        "the vllm program below (a venv, conda or module environment), no Docker needed.",
    ),
    FormField(
        "vllm_program",
        "vllm program",
        "With runtime process: the vllm program of the environment vLLM is installed in, "
        "such as ~/venvs/vllm/bin/vllm (default: vllm on PATH).",
    ),
    FormField(
        "extra",
        "extra arguments",
        "Any other vLLM argument, written as for vllm serve; "
        "each is checked against vLLM's own list.",
    ),
)
# vLLM flags that are the spec's own fields.
OWN_FLAG_FIELDS = {"--served-model-name": "served_model_name", "--host": "host", "--port": "port"}
READ_ONLY = {"--api-key"}


def form_groups() -> list[tuple[str, list[FormField]]]:
    groups = [("Launch", list(SPEC_FIELDS[:5]))]
    for title, flags in FORM_GROUPS:
        groups.append(
            (
                title,
                [
                    FormField(f, f.removeprefix("--"), CATALOGUE[f].help, CATALOGUE[f])
                    for f in flags
                ],
            )
        )
    groups.append(("More", [SPEC_FIELDS[5]]))
    return groups


def texts_from_spec(spec: LaunchSpec) -> dict[str, str]:
    texts = {
        "model": spec.model,
        "image": spec.image,
        "gpus": format_gpus(spec.gpus),
        "runtime": spec.runtime,
        "vllm_program": spec.vllm_program,
        "extra": " ".join(spec.extra_args),
        "--served-model-name": spec.served_model_name,
        "--host": spec.host,
        "--port": str(spec.port),
        "--api-key": "generated for this profile (kept in its key file)",
    }
    for _title, flags in FORM_GROUPS:
        for flag in flags:
            if flag not in texts:
                texts[flag] = format_value(CATALOGUE[flag], spec.args.get(flag))
    return texts


def spec_from_texts(base: LaunchSpec, texts: dict[str, str]) -> tuple[LaunchSpec, list[Problem]]:
    """The spec the form shows, and a problem for each field whose text does not read."""
    problems: list[Problem] = []
    changes: dict[str, object] = {}
    args = dict(base.args)
    for key, text in texts.items():
        if key in READ_ONLY:
            continue
        if key == "model":
            changes["model"] = text.strip()
        elif key == "image":
            changes["image"] = text.strip()
        elif key == "gpus":
            gpus = parse_gpus(text)
            if gpus is None:
                problems.append(Problem("gpus", "all, none, or indices such as 0,1"))
            else:
                changes["gpus"] = gpus
        elif key == "runtime":
            runtime = text.strip() or "docker"
            if runtime not in RUNTIMES:
                problems.append(Problem("runtime", f"docker or process, not {text!r}"))
            else:
                changes["runtime"] = runtime
        elif key == "vllm_program":
            changes["vllm_program"] = text.strip() or "vllm"
        elif key == "extra":
            try:
                changes["extra_args"] = split_extra(text)
            except ValueError as exc:
                problems.append(Problem("extra", f"cannot split it: {exc}"))
        elif key == "--port":
            try:
                changes["port"] = int(text.strip() or "8000")
            except ValueError:
                problems.append(Problem("--port", f"a port number, not {text!r}"))
        elif key in OWN_FLAG_FIELDS:
            changes[OWN_FLAG_FIELDS[key]] = text.strip() or ("127.0.0.1" if key == "--host" else "")
        elif key in CATALOGUE:
            try:
                value = parse_value(CATALOGUE[key], text)
            except ValueError as exc:
                problems.append(Problem(key, str(exc)))
                continue
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
    return replace(base, args=args, **changes), problems  # type: ignore[arg-type]
