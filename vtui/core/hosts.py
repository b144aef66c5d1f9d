"""Docker hosts: an engine address with a name, where it came from, and its checks.

A host is this machine's engine ("local", DOCKER_HOST honoured), a Docker context as
`docker context ls` lists it, or a `[hosts.NAME]` table of vtui's config.toml. Everything
here is a decision on text already read: the files are read in backends/hosts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL = "local"
# A host's name: a context's name as Docker allows it, or a config table's key.
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,62}")
SCHEMES = ("unix", "ssh", "tcp")
# ssh's own user and host name characters; nothing that reads as an ssh option.
SSH_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}")
NET_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
MAX_URL = 512


class HostProblem(ValueError):
    """A host that cannot be used as written: names the host and says why."""


@dataclass(frozen=True)
class TlsFiles:
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True


@dataclass(frozen=True)
class Host:
    name: str
    docker: str  # unix:///..., ssh://user@host[:port], tcp://host:port
    source: str  # "local", "DOCKER_HOST", "context", "config"
    tls: TlsFiles | None = None
    current: bool = False  # the Docker CLI's current context
    # Where that host keeps its HF cache (its HF_HOME), for downloads made there; None:
    # the same path as this machine's, which is what a profile made here mounts there.
    hf_home: str | None = None

    @property
    def scheme(self) -> str:
        return urlsplit(self.docker).scheme

    @property
    def remote(self) -> bool:
        return self.scheme != "unix"

    @property
    def ssh_target(self) -> str | None:
        """user@host for ssh (the port apart): what `ssh` is given."""
        if self.scheme != "ssh":
            return None
        parts = urlsplit(self.docker)
        return f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname

    @property
    def hostname(self) -> str:
        return urlsplit(self.docker).hostname or ""

    @property
    def ssh_port(self) -> int | None:
        return urlsplit(self.docker).port if self.scheme == "ssh" else None


def remote_id(host: str, inner: str) -> str:
    """A remote host's container id as vtui shows it: "HOST/ID" (Docker's ids and names
    never hold a '/')."""
    return f"{host}/{inner}"


def split_id(container_id: str) -> tuple[str | None, str]:
    """The host (None: this machine's) and the id its own engine knows."""
    host, slash, inner = container_id.partition("/")
    return (host, inner) if slash else (None, container_id)


def host_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not HOST_NAME.fullmatch(name):
        raise HostProblem(
            f"{where}: {str(name)[:80]!r} is not a host name (letters, digits, '.', '_', "
            "'+', '-'; at most 63)"
        )
    return name


def docker_url(url: object, name: str) -> str:
    """The engine address, checked: one of unix://PATH, ssh://[USER@]HOST[:PORT],
    tcp://HOST:PORT, with nothing ssh or the engine would read as something else."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise HostProblem(
            f"host {name}: the docker address must be a URL (unix://, ssh://, tcp://)"
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise HostProblem(f"host {name}: {url[:80]!r} holds a space or a control character")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise HostProblem(f"host {name}: {url!r} is not a valid URL: {exc}") from exc
    if parts.scheme not in SCHEMES:
        raise HostProblem(
            f"host {name}: {url!r}: vtui reaches engines by {', '.join(s + '://' for s in SCHEMES)}"
            f", not {parts.scheme or 'a bare address'}"
        )
    if parts.scheme == "unix":
        if not parts.path.startswith("/") or parts.netloc:
            raise HostProblem(f"host {name}: {url!r}: a socket is unix:///absolute/path")
        return url
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise HostProblem(f"host {name}: {url!r}: nothing may follow the host and port")
    hostname = parts.hostname or ""
    netloc_host = parts.netloc.rpartition("@")[2]
    netloc_host = netloc_host.rsplit(":", 1)[0] if not netloc_host.endswith("]") else netloc_host
    if not hostname or not NET_HOST.fullmatch(netloc_host) or hostname.startswith("-"):
        raise HostProblem(f"host {name}: {url!r}: {hostname or 'no host'} is not a host name")
    if parts.password is not None:
        raise HostProblem(f"host {name}: {url!r}: give no password in the URL; ssh keys or TLS")
    if parts.scheme == "ssh":
        if parts.username is not None and not SSH_USER.fullmatch(parts.username):
            raise HostProblem(f"host {name}: {url!r}: {parts.username!r} is not a user name")
    elif parts.username is not None:
        raise HostProblem(f"host {name}: {url!r}: a tcp:// address has no user")
    elif port is None:
        raise HostProblem(f"host {name}: {url!r}: a tcp:// address needs its port (2376 for TLS)")
    if port is not None and not 0 < port < 65536:
        raise HostProblem(f"host {name}: {url!r}: port {port} is out of range")
    return url


def _tls(table: Mapping[str, object], name: str) -> TlsFiles | None:
    paths = {}
    for field in ("tls_ca", "tls_cert", "tls_key"):
        value = table.get(field)
        if value is None:
            continue
        if not isinstance(value, str) or not value.startswith(("/", "~")):
            raise HostProblem(f"host {name}: {field} must be an absolute path to a PEM file")
        paths[field[4:]] = value
    verify = table.get("tls_verify", True)
    if not isinstance(verify, bool):
        raise HostProblem(f"host {name}: tls_verify must be true or false")
    if not paths:
        return None
    if ("cert" in paths) != ("key" in paths):
        raise HostProblem(f"host {name}: tls_cert and tls_key come together")
    return TlsFiles(verify=verify, **paths)


def far_path_problem(path: str) -> str | None:
    """Why a path on another host cannot be mounted as given; None when it can."""
    if not path.startswith("/"):
        return "must be an absolute path on that host"
    if ":" in path or "\0" in path or any(ord(ch) < 32 for ch in path):
        return "must hold no ':' and no control characters"
    if ".." in path.split("/"):
        return "must not climb with '..'"
    return None


def _hf_home(table: Mapping[str, object], name: str) -> str | None:
    value = table.get("hf_home")
    if value is None:
        return None
    problem = far_path_problem(value) if isinstance(value, str) else "must be a path"
    if problem:
        raise HostProblem(f"host {name}: hf_home {problem}")
    return str(value)


def config_hosts(tables: Mapping[str, object]) -> tuple[list[Host], list[str]]:
    """The `[hosts.NAME]` tables of config.toml: the hosts, and a problem line for each
    table that cannot be used (the others still are)."""
    hosts, problems = [], []
    for raw_name, table in tables.items():
        try:
            name = host_name(raw_name, "config.toml [hosts]")
            if name == LOCAL:
                raise HostProblem("host local: the name is this machine's engine's")
            if not isinstance(table, Mapping):
                raise HostProblem(f"host {name}: [hosts.{name}] must be a table")
            unknown = set(table) - {
                "docker", "tls_ca", "tls_cert", "tls_key", "tls_verify", "hf_home"
            }  # fmt: skip
            if unknown:
                raise HostProblem(f"host {name}: unknown settings {', '.join(sorted(unknown))}")
            url = docker_url(table.get("docker"), name)
            tls = _tls(table, name)
            if tls is not None and not url.startswith("tcp://"):
                raise HostProblem(f"host {name}: TLS files go with a tcp:// address")
            hosts.append(Host(name, url, "config", tls, hf_home=_hf_home(table, name)))
        except HostProblem as exc:
            problems.append(str(exc))
    return hosts, problems


def context_host(meta: object, tls_dir: str | None, current: str | None) -> Host:
    """A Docker context from its meta.json (as the Docker CLI writes it); tls_dir the
    context's TLS folder when it has one. Raises HostProblem."""
    if not isinstance(meta, Mapping):
        raise HostProblem("a Docker context's meta.json is not an object")
    name = host_name(meta.get("Name"), "Docker context")
    endpoints = meta.get("Endpoints")
    docker = endpoints.get("docker") if isinstance(endpoints, Mapping) else None
    if not isinstance(docker, Mapping):
        raise HostProblem(f"context {name}: it has no docker endpoint")
    url = docker_url(docker.get("Host"), f"context {name}")
    tls = None
    if tls_dir is not None:
        skip = docker.get("SkipTLSVerify", False)
        tls = TlsFiles(
            ca=f"{tls_dir}/ca.pem",
            cert=f"{tls_dir}/cert.pem",
            key=f"{tls_dir}/key.pem",
            verify=skip is not True,
        )
    return Host(name, url, "context", tls, current=name == current)


def all_hosts(
    local_url: str, env_host: str | None, contexts: Iterable[Host], configured: Iterable[Host]
) -> tuple[list[Host], list[str]]:
    """Every host by name, first come first kept: local (DOCKER_HOST honoured), then the
    contexts, then vtui's config. A later one with a taken name is a problem line."""
    local = Host(LOCAL, env_host or local_url, "DOCKER_HOST" if env_host else "local")
    hosts: dict[str, Host] = {LOCAL: local}
    problems: list[str] = []
    for host in [*contexts, *configured]:
        if host.source == "context" and (host.name == "default" or host.docker == local.docker):
            continue  # the Docker CLI's own name for this machine's engine: listed as local
        if host.name in hosts:
            problems.append(
                f"host {host.name}: the name is taken by a {hosts[host.name].source} host"
            )
            continue
        hosts[host.name] = host
    return list(hosts.values()), problems


def pick(hosts: Iterable[Host], name: str) -> Host:
    """The host called name; the message lists the known ones. Raises HostProblem."""
    known = list(hosts)
    for host in known:
        if host.name == name:
            return host
    names = ", ".join(h.name for h in known)
    raise HostProblem(f"no host called {name[:80]!r}; known: {names} (see `vtui hosts`)")
