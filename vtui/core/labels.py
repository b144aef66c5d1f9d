"""The container labels that mark a deployment as vtui's, and how to read them back."""

MANAGED = "io.vtui.managed"
MODEL = "io.vtui.model"
PROFILE = "io.vtui.profile"
SPEC_HASH = "io.vtui.spec-hash"
# "process" on a `vllm serve` process; containers carry no such label (they are "docker").
RUNTIME = "io.vtui.runtime"
# On a `vtui probe` container: it measures, it never serves, and it records itself.
PROBE = "io.vtui.probe"


def vtui_labels(model: str, profile: str) -> dict[str, str]:
    return {MANAGED: "true", MODEL: model, PROFILE: profile}


# On `vtui doctor`'s short-lived `nvidia-smi -L` container.
DOCTOR = "io.vtui.doctor"
# On a short-lived helper container vtui runs on a host (reading its GPUs, say): its job.
HELPER = "io.vtui.helper"

# A deployment of several nodes (vLLM on a Ray cluster across hosts): every node's container
# carries GROUP (the profile) and NODE ("head", or "worker-N"); only the head carries PROFILE,
# so a worker is never taken for the profile's server.
GROUP = "io.vtui.group"
NODE = "io.vtui.node"
HEAD = "head"
# On a container of the host's network (no published port): the address vLLM listens on,
# as vtui started it, "127.0.0.1:8000".
LISTEN = "io.vtui.listen"


def worker_role(index: int) -> str:
    return f"worker-{index}"
