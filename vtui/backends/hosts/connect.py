"""An engine for one remote host: ssh:// through vtui's relay, tcp:// (with TLS files when
given), or another unix socket; each call with a deadline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vtui.backends.engine.docker_engine import DockerEngine
from vtui.backends.gpu import GpuMonitor
from vtui.backends.hosts.engines import REMOTE_TIMEOUT_S, Connection
from vtui.backends.hub import Downloads
from vtui.core.errors import EngineUnavailable
from vtui.core.hosts import Host, TlsFiles


def _checked_tls(host: Host) -> TlsFiles | None:
    tls = host.tls
    if tls is None:
        return None
    paths = {}
    for field in ("ca", "cert", "key"):
        value = getattr(tls, field)
        if value is None:
            continue
        path = Path(value).expanduser()
        if not path.is_file():
            raise EngineUnavailable(f"host {host.name}: its TLS {field} file {path} does not exist")
        paths[field] = str(path)
    return TlsFiles(verify=tls.verify, **paths)


def remote_engine(host: Host) -> Connection:
    """The engine, what closes it, and its tunnels. Raises EngineUnavailable (TLS files
    missing, ssh not runnable)."""
    if host.scheme == "ssh":
        from vtui.backends.engine.ssh_relay import SshRelay

        target = host.ssh_target
        if target is None:
            raise EngineUnavailable(f"host {host.name}: {host.docker} names no ssh host")
        relay = SshRelay(target, host.ssh_port)
        engine = DockerEngine(
            relay.url,
            where=host.docker,
            why=lambda _exc: relay.last_error or "",
            timeout=REMOTE_TIMEOUT_S,
        )
        return Connection(
            engine, relay.close, relay.forward, _smi(engine, host), _downloads(engine, host)
        )
    engine = DockerEngine(
        host.docker, tls=_checked_tls(host), where=host.docker, timeout=REMOTE_TIMEOUT_S
    )
    return Connection(
        engine, lambda: None, gpus=_smi(engine, host), downloads=_downloads(engine, host)
    )


def _smi(engine: DockerEngine, host: Host) -> Callable[[], GpuMonitor]:
    def make() -> GpuMonitor:
        from vtui.backends.gpu.engine_smi import EngineSmiGpus

        return EngineSmiGpus(engine, host.name)

    return make


def _downloads(engine: DockerEngine, host: Host) -> Callable[[], Downloads]:
    def make() -> Downloads:
        from vtui.backends.hub.remote_download import RemoteDownloads
        from vtui.locations import hf_home

        # A profile made here mounts this machine's HF home path there: the same default.
        return RemoteDownloads(engine, host.name, host.hf_home or hf_home())

    return make
