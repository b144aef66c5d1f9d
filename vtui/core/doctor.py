"""`vtui doctor`'s decisions: what each fact about this machine means, pass / warn / fail,
with the reason and the exact fix for this distribution. The facts are gathered elsewhere
(backends.host); nothing here reads a file or opens a socket."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from vtui.core.doctor_fixes import Distro, fix_for
from vtui.core.units import plural

GIB = 1 << 30


class Status(enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    key: str  # stable, for --json and tests: "docker", "nvidia-runtime", ...
    title: str
    status: Status
    reason: str
    fix: str = ""


@dataclass(frozen=True)
class EngineFacts:
    where: str  # the socket or URL asked
    version: str | None = None  # None: not reachable
    # Why it could not be reached: "missing" (no socket), "permission", "refused", "other".
    problem_kind: str | None = None
    problem: str = ""
    runtimes: tuple[str, ...] = ()
    default_runtime: str = ""
    cdi_devices: tuple[str, ...] = ()
    data_root: str = ""
    images: tuple[str, ...] = ()  # repo:tag of every local image, for the pinned one


@dataclass(frozen=True)
class GpuRun:
    """A GPU container tried: `nvidia-smi -L` in an image that was here."""

    image: str | None  # None: no image to try it with
    ok: bool = False
    output: str = ""  # its first line, or why it did not start


@dataclass(frozen=True)
class GpuFacts:
    count: int = 0
    driver: str | None = None
    total_bytes: int = 0
    problem: str = ""  # why NVML gave nothing


@dataclass(frozen=True)
class DiskFacts:
    label: str  # "HF cache", "Docker's data root"
    path: str
    free_bytes: int | None
    problem: str = ""


@dataclass(frozen=True)
class HubFacts:
    endpoint: str
    reachable: bool
    problem: str = ""
    token_present: bool = False  # never the token itself
    gated_repo: str | None = None
    gated_problem: str | None = None  # None: readable (when gated_repo is given)


@dataclass(frozen=True)
class MachineFacts:
    distro: Distro
    engine: EngineFacts
    gpu_run: GpuRun
    gpus: GpuFacts
    disks: tuple[DiskFacts, ...]
    hub: HubFacts
    port: int
    port_free: bool
    shm_bytes: int | None
    pinned_image: str
    demo: bool = False


@dataclass(frozen=True)
class DoctorReport:
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        return 1 if any(f.status is Status.FAIL for f in self.findings) else 0

    def counts(self) -> dict[Status, int]:
        return {s: sum(f.status is s for f in self.findings) for s in Status}


# vLLM's own docs ask for a bigger /dev/shm (tensor parallel passes tensors through it);
# Docker's default is 64 MiB, and vtui's launches ask for more themselves.
SHM_ENOUGH = 1 * GIB
DISK_LOW = 50 * GIB  # a 7-8B model in bf16 is about 16 GB; a 70B about 140 GB
GPU_RUNTIMES = ("nvidia",)


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def engine_finding(facts: EngineFacts, distro: Distro) -> Finding:
    title = "Docker Engine"
    if facts.version is not None:
        return Finding("docker", title, Status.PASS, f"version {facts.version} at {facts.where}")
    kind = facts.problem_kind or "other"
    reason = {
        "missing": f"no Docker engine socket at {facts.where}",
        "permission": f"permission denied on {facts.where}: this user may not use Docker",
        "refused": f"nothing answers at {facts.where}: the Docker daemon is not running",
    }.get(kind, f"cannot reach the Docker engine at {facts.where}")
    if facts.problem and kind == "other":
        reason += f" ({facts.problem})"
    return Finding("docker", title, Status.FAIL, reason, fix_for(f"docker-{kind}", distro))


def runtime_finding(facts: EngineFacts, distro: Distro) -> Finding:
    title = "NVIDIA runtime"
    if facts.version is None:
        return Finding("nvidia-runtime", title, Status.WARN, "not checked: Docker is out of reach")
    nvidia = [r for r in facts.runtimes if r in GPU_RUNTIMES]
    cdi = [d for d in facts.cdi_devices if d.startswith("nvidia.com/gpu")]
    if nvidia or cdi:
        parts = []
        if nvidia:
            default = " (the default)" if facts.default_runtime in nvidia else ""
            parts.append(f"runtime {', '.join(nvidia)} registered{default}")
        if cdi:
            parts.append(f"{plural(len(cdi), 'CDI device')} named nvidia.com/gpu")
        return Finding("nvidia-runtime", title, Status.PASS, "; ".join(parts))
    runtimes = ", ".join(facts.runtimes) or "none"
    return Finding(
        "nvidia-runtime",
        title,
        Status.FAIL,
        f"Docker knows no NVIDIA runtime (runtimes: {runtimes}) and no CDI GPU device, "
        "so containers cannot use the GPUs",
        fix_for("nvidia-toolkit", distro),
    )


def gpu_run_finding(run: GpuRun, facts: EngineFacts, distro: Distro) -> Finding:
    title = "GPU container"
    if facts.version is None:
        return Finding("gpu-container", title, Status.WARN, "not tried: Docker is out of reach")
    if run.image is None:
        return Finding(
            "gpu-container",
            title,
            Status.WARN,
            "not tried: no image here to run `nvidia-smi -L` in (vtui pulls none for a check)",
            "pull the vLLM image first (`docker pull` it, or launch once), then rerun",
        )
    if run.ok:
        return Finding("gpu-container", title, Status.PASS, f"{run.image}: {run.output}")
    return Finding(
        "gpu-container",
        title,
        Status.FAIL,
        f"`nvidia-smi -L` with --gpus all in {run.image} failed: {run.output}",
        fix_for("nvidia-toolkit", distro),
    )


def gpu_finding(gpus: GpuFacts, distro: Distro, demo: bool) -> Finding:
    title = "NVIDIA driver"
    if gpus.count:
        label = "simulated GPU" if demo else "GPU"
        return Finding(
            "nvml",
            title,
            Status.PASS,
            f"driver {gpus.driver or '?'}, {plural(gpus.count, label)}, "
            f"{_gib(gpus.total_bytes)} in all",
        )
    return Finding(
        "nvml", title, Status.FAIL, gpus.problem or "NVML sees no GPU", fix_for("driver", distro)
    )


def disk_finding(disk: DiskFacts) -> Finding:
    key = "disk-" + disk.label.lower().replace("'", "").replace(" ", "-")
    title = f"Disk: {disk.label}"
    if disk.free_bytes is None:
        return Finding(key, title, Status.WARN, f"cannot read {disk.path}: {disk.problem}")
    reason = f"{_gib(disk.free_bytes)} free at {disk.path}"
    if disk.free_bytes < DISK_LOW:
        return Finding(
            key,
            title,
            Status.WARN,
            reason + f" (under {_gib(DISK_LOW)}: a 70B model alone takes about 140 GB)",
            "free space there, or point it elsewhere (HF_HOME for the cache, "
            "data-root in /etc/docker/daemon.json for Docker)",
        )
    return Finding(key, title, Status.PASS, reason)


def hub_findings(hub: HubFacts) -> list[Finding]:
    out = []
    if hub.reachable:
        out.append(Finding("hub", "Hub", Status.PASS, f"{hub.endpoint} answers"))
    else:
        out.append(
            Finding(
                "hub",
                "Hub",
                Status.WARN,
                f"{hub.endpoint}: {hub.problem}",
                "check the network or proxy (HTTPS_PROXY), or set HF_ENDPOINT to a mirror; "
                "models already in the HF cache still launch",
            )
        )
    if hub.token_present:
        out.append(Finding("hub-token", "Hub token", Status.PASS, "a token is set (not shown)"))
    else:
        out.append(
            Finding(
                "hub-token",
                "Hub token",
                Status.WARN,
                "no token: gated models (Llama, Gemma, ...) cannot be downloaded",
                "`hf auth login`, or export HF_TOKEN",
            )
        )
    if hub.gated_repo is not None:
        if not hub.reachable:
            out.append(
                Finding(
                    "hub-gated", "Gated repo", Status.WARN,
                    f"{hub.gated_repo} not checked: the Hub is out of reach",
                )
            )  # fmt: skip
        elif hub.gated_problem is None:
            out.append(
                Finding("hub-gated", "Gated repo", Status.PASS, f"{hub.gated_repo} is readable")
            )
        else:
            out.append(
                Finding(
                    "hub-gated",
                    "Gated repo",
                    Status.FAIL,
                    hub.gated_problem,
                    f"accept the terms on {hub.endpoint}/{hub.gated_repo} with the account "
                    "whose token is set",
                )
            )
    return out


def port_finding(port: int, free: bool) -> Finding:
    title = f"Port {port}"
    if free:
        return Finding("port", title, Status.PASS, f"127.0.0.1:{port} is free for vLLM")
    return Finding(
        "port",
        title,
        Status.WARN,
        f"something already listens on {port}",
        f"stop it (`ss -ltnp 'sport = :{port}'` names it) or give the profile another port",
    )


def image_finding(facts: EngineFacts, pinned: str) -> Finding:
    title = "vLLM image"
    if facts.version is None:
        return Finding("image", title, Status.WARN, "not checked: Docker is out of reach")
    if pinned in facts.images:
        return Finding("image", title, Status.PASS, f"{pinned} is here")
    return Finding(
        "image",
        title,
        Status.WARN,
        f"{pinned} is not here: the first launch pulls it (about 10 GB)",
        f"`docker pull {pinned}` now, while you pick a model",
    )


def shm_finding(shm_bytes: int | None) -> Finding:
    title = "/dev/shm"
    if shm_bytes is None:
        return Finding("shm", title, Status.WARN, "no /dev/shm on this machine")
    reason = f"{_gib(shm_bytes)} on the host"
    if shm_bytes < SHM_ENOUGH:
        return Finding(
            "shm",
            title,
            Status.WARN,
            reason + " (vLLM's containers get their own, sized by the profile's shm-size)",
            "for vLLM run outside Docker: mount -o remount,size=8G /dev/shm",
        )
    return Finding("shm", title, Status.PASS, reason)


def diagnose(facts: MachineFacts) -> DoctorReport:
    """Every check, in the order a person fixes them: the engine before what needs it."""
    findings: list[Finding] = [
        engine_finding(facts.engine, facts.distro),
        runtime_finding(facts.engine, facts.distro),
        gpu_run_finding(facts.gpu_run, facts.engine, facts.distro),
        gpu_finding(facts.gpus, facts.distro, facts.demo),
        *(disk_finding(d) for d in facts.disks),
        *hub_findings(facts.hub),
        port_finding(facts.port, facts.port_free),
        image_finding(facts.engine, facts.pinned_image),
        shm_finding(facts.shm_bytes),
    ]
    return DoctorReport(tuple(findings))


def summary_line(report: DoctorReport) -> str:
    counts = report.counts()
    parts = [f"{counts[s]} {s.value}" for s in Status]
    verdict = (
        "this machine can serve a model"
        if report.exit_code == 0
        else "fix what fails above before launching"
    )
    return f"{', '.join(parts)}: {verdict}"


def as_json(report: DoctorReport) -> dict[str, object]:
    return {
        "ok": report.exit_code == 0,
        "checks": [
            {"key": f.key, "title": f.title, "status": f.status.value, "reason": f.reason,
             "fix": f.fix}
            for f in report.findings
        ],
    }  # fmt: skip


def by_key(findings: Sequence[Finding]) -> dict[str, Finding]:
    return {f.key: f for f in findings}


_MARKS = {Status.PASS: "pass", Status.WARN: "warn", Status.FAIL: "FAIL"}


def report_lines(report: DoctorReport, where: str, width: int = 100) -> list[str]:
    """The report as `vtui doctor` prints it: a line per check (its reason wrapped under
    itself to `width`), then its fix."""
    import textwrap

    title_width = max((len(f.title) for f in report.findings), default=0)
    indent = " " * (2 + 4 + 2 + title_width + 2)
    room = max(30, width - len(indent))
    lines = [f"vtui doctor: {where}"]
    for finding in report.findings:
        head = f"  {_MARKS[finding.status]}  {finding.title:<{title_width}}  "
        text = finding.reason
        if finding.fix and finding.status is not Status.PASS:
            text += "\nfix: " + finding.fix
        wrapped = [
            part
            for paragraph in text.split("\n")
            for part in textwrap.wrap(
                paragraph, room, break_long_words=False, break_on_hyphens=False
            )
            or [""]
        ]
        lines.append(head + wrapped[0])
        lines.extend(indent + part for part in wrapped[1:])
    lines.append(summary_line(report))
    return lines
