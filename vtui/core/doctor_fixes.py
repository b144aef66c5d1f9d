"""The exact fix for each problem `vtui doctor` finds, in this distribution's own commands."""

from __future__ import annotations

from dataclasses import dataclass

from vtui.core.terminal_text import visible


@dataclass(frozen=True)
class Distro:
    """What /etc/os-release says: ID, ID_LIKE (split) and PRETTY_NAME."""

    id: str = ""
    like: tuple[str, ...] = ()
    pretty: str = ""

    @property
    def family(self) -> str:
        """debian (Debian, Ubuntu, ...), rhel (Fedora, RHEL, Rocky, ...), arch, suse or other."""
        names = (self.id, *self.like)
        for family, members in _FAMILIES.items():
            if any(name in members for name in names):
                return family
        return "other"


_FAMILIES = {
    "debian": {"debian", "ubuntu"},
    "rhel": {"rhel", "fedora", "centos", "rocky", "almalinux"},
    "arch": {"arch"},
    "suse": {"suse", "opensuse", "sles"},
}

_TOOLKIT_DOCS = (
    "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html"
)
_CONFIGURE = "sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker"

_FIXES: dict[str, dict[str, str]] = {
    "docker-missing": {
        "debian": "sudo apt install docker.io && sudo systemctl enable --now docker",
        "rhel": "sudo dnf install moby-engine (Fedora) or docker-ce from Docker's repository, "
        "then sudo systemctl enable --now docker",
        "arch": "sudo pacman -S docker && sudo systemctl enable --now docker",
        "suse": "sudo zypper install docker && sudo systemctl enable --now docker",
        "other": "install Docker Engine (https://docs.docker.com/engine/install/) and start it",
    },
    "docker-refused": {
        "any": "sudo systemctl start docker (its log: journalctl -u docker -n 50)",
    },
    "docker-permission": {
        "any": 'sudo usermod -aG docker "$USER", then log in again (or run `newgrp docker`)',
    },
    "docker-other": {
        "any": "check DOCKER_HOST and `docker info`; `sudo systemctl status docker` says more",
    },
    "nvidia-toolkit": {
        "debian": "install nvidia-container-toolkit from NVIDIA's apt repository "
        f"({_TOOLKIT_DOCS}), then {_CONFIGURE}",
        "rhel": "sudo dnf install nvidia-container-toolkit (NVIDIA's dnf repository, "
        f"{_TOOLKIT_DOCS}), then {_CONFIGURE}",
        "arch": f"sudo pacman -S nvidia-container-toolkit, then {_CONFIGURE}",
        "suse": "sudo zypper install nvidia-container-toolkit (NVIDIA's zypper repository), "
        f"then {_CONFIGURE}",
        "other": f"install the NVIDIA Container Toolkit ({_TOOLKIT_DOCS}), then {_CONFIGURE}",
    },
    "driver": {
        "debian": "Debian: sudo apt install nvidia-driver firmware-misc-nonfree (contrib, "
        "non-free); Ubuntu: sudo ubuntu-drivers install; then reboot",
        "rhel": "sudo dnf install akmod-nvidia (RPM Fusion) or NVIDIA's CUDA repository "
        "driver, then reboot",
        "arch": "sudo pacman -S nvidia nvidia-utils, then reboot",
        "suse": "sudo zypper install nvidia-open-driver-G06-signed, then reboot",
        "other": "install the NVIDIA driver for this GPU, then reboot; `nvidia-smi` must work",
    },
}


def fix_for(problem: str, distro: Distro) -> str:
    fixes = _FIXES[problem]
    return fixes.get("any") or fixes.get(distro.family) or fixes["other"]


def parse_os_release(text: str) -> Distro:
    """/etc/os-release's KEY=value lines (values may be quoted); anything else is skipped."""
    values: dict[str, str] = {}
    for line in text.splitlines()[:200]:
        key, sep, value = line.partition("=")
        if sep and key.strip().isidentifier():
            values[key.strip()] = visible(value.strip().strip("\"'")[:200])
    return Distro(
        id=values.get("ID", "").lower(),
        like=tuple(values.get("ID_LIKE", "").lower().split()),
        pretty=values.get("PRETTY_NAME", ""),
    )
