"""The real container engine: the Docker Engine API through docker-py."""

from __future__ import annotations

import contextlib
import ipaddress
import ssl
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

from vtui.backends.engine import PullListener
from vtui.backends.engine.engine_address import engine_address, why_unreachable
from vtui.backends.engine.helper_jobs import HelperJob, tar_of
from vtui.backends.engine.log_stamps import parse_stamp, stamped_line
from vtui.backends.engine.process_owners import ProcessOwners
from vtui.core import labels
from vtui.core.errors import (
    EngineFailed,
    EngineRefused,
    EngineUnavailable,
    NoSuchContainer,
)
from vtui.core.hosts import TlsFiles
from vtui.core.image_pull import pull_problem
from vtui.core.launch_conflicts import ExistingContainer, replaced_by
from vtui.core.log_buffer import MAX_LINE_BYTES, cut_line
from vtui.core.records import ContainerState, Deployment, LogLine, RunRequest
from vtui.core.terminal_text import visible
from vtui.core.vllm_command import served_model
from vtui.core.vllm_release import VLLM_IMAGE

_STATES = {
    "created": ContainerState.CREATED,
    "restarting": ContainerState.STARTING,
    "running": ContainerState.RUNNING,
    "removing": ContainerState.STOPPING,
    "paused": ContainerState.UNKNOWN,
    "exited": ContainerState.EXITED,
    "dead": ContainerState.DEAD,
}


def _state(attrs: dict[str, Any]) -> ContainerState:
    raw = attrs.get("State", {})
    state = _STATES.get(raw.get("Status", ""), ContainerState.UNKNOWN)
    health = (raw.get("Health") or {}).get("Status")
    if state == ContainerState.RUNNING and health == "starting":
        return ContainerState.STARTING
    if state == ContainerState.RUNNING and health == "unhealthy":
        return ContainerState.UNHEALTHY
    return state


def _published(attrs: dict[str, Any]) -> tuple[str, int | None]:
    bindings = (attrs.get("HostConfig") or {}).get("PortBindings") or {}
    for binding in bindings.values():
        for entry in binding or []:
            port = entry.get("HostPort")
            if port:
                return entry.get("HostIp") or "0.0.0.0", int(port)
    if (attrs.get("HostConfig") or {}).get("NetworkMode") == "host":
        # No mapping on the host's network: vLLM listens where vtui told it (a label, so
        # anyone's to set: taken only as an IP address and a port).
        listen = ((attrs.get("Config") or {}).get("Labels") or {}).get(labels.LISTEN)
        found = listen_address(listen)
        if found is not None:
            return found
    return "", None


def listen_address(label: object) -> tuple[str, int] | None:
    """The (ip, port) of an io.vtui.listen label; None unless it is exactly that."""
    if not isinstance(label, str) or len(label) > 64:
        return None
    host, _, port = label.rpartition(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        return None
    return host, int(port)


def is_vllm_image(image: str) -> bool:
    """vllm/vllm-openai at any tag or digest, also through a mirror (mirror.io/vllm/...)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name == VLLM_IMAGE or name.endswith(f"/{VLLM_IMAGE}")


def _is_deployment(entry: dict[str, Any]) -> bool:
    """A listed container vtui shows: one of its own (by label) or any running a vLLM image."""
    entry_labels = entry.get("Labels") or {}
    if labels.HELPER in entry_labels:  # vtui's own helper, in a vLLM image: never a server
        return False
    ours = entry_labels.get(labels.MANAGED) == "true"
    return ours or is_vllm_image(str(entry.get("Image", "")))


def _since_seconds(since_ns: int) -> int:
    """docker-py takes `since` in seconds; whole ones, rounded down, lose no line: the ones
    before `since_ns` are skipped as they come."""
    return max(1, since_ns // 1_000_000_000)


class DockerLogFollow:
    """`docker logs -f --timestamps`, line by line. Ends quietly when the stream does.

    Lines before `since_ns` are skipped: the engine is asked from the whole second before
    it (docker-py's float seconds lost the nanoseconds), so the lines of that second already
    shown would otherwise come again. A line longer than
    the bound is cut as it arrives, so an endless line costs no more than one bound."""

    def __init__(self, stream: Any, since_ns: int | None = None) -> None:
        self._stream = stream
        self._since_ns = since_ns or 0

    def __iter__(self) -> Iterator[LogLine]:
        pending = bytearray()
        overlong = False  # the current line passed the bound: the rest of it is dropped
        try:
            for chunk in self._stream:
                start = 0
                while (end := chunk.find(b"\n", start)) >= 0:
                    if not overlong:
                        pending += chunk[start:end]
                    if line := self._line(bytes(pending), overlong):
                        yield line
                    pending.clear()
                    overlong = False
                    start = end + 1
                if not overlong:
                    pending += chunk[start:]
                    if len(pending) > MAX_LINE_BYTES:
                        del pending[MAX_LINE_BYTES:]
                        overlong = True
        except Exception:
            # The daemon went away or close() cut the socket: the follower re-attaches.
            return
        if pending and (line := self._line(bytes(pending), overlong)):
            yield line

    def _line(self, raw: bytes, overlong: bool) -> LogLine | None:
        line = stamped_line(raw)
        if overlong:
            line = LogLine(line.at_ns, cut_line(line.text, forced=True))
        return line if line.at_ns >= self._since_ns or not line.at_ns else None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already closed by the peer
            self._stream.close()


HELPER_OUTPUT_BYTES = 256 * 1024


def _not_docker(exc: BaseException) -> bool:
    """Whether something answered, but not as an engine does: an HTTP error status or a
    body that is not the Engine API's JSON, anywhere in docker-py's chain of causes."""
    import requests

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        # A failed TLS handshake is no answer at all (ssl's verify error is a ValueError).
        if isinstance(seen, (ssl.SSLError, requests.exceptions.SSLError)):
            return False
        if isinstance(seen, (ValueError, requests.HTTPError)) and not isinstance(
            seen, requests.ConnectionError
        ):
            return True
        if type(seen).__name__ == "APIError":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class DockerEngine:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        tls: TlsFiles | None = None,
        where: str | None = None,
        why: Callable[[Exception], str] | None = None,
        timeout: float | None = None,
    ) -> None:
        """base_url: the engine's socket or address (default: DOCKER_HOST, else the local
        socket). A remote host passes the address to show (`where`), its own reason for a
        failure (`why`: ssh's words, say) and a deadline for every call."""
        self._base_url = base_url
        self._tls = tls
        self._where = where
        self._why = why
        self._timeout = timeout
        self._client: Any = None
        self.label = "Docker Engine"
        self._owners = ProcessOwners(self._running_vllm, self._host_pids)

    def now(self) -> float:
        return time.time()

    @property
    def where(self) -> str:
        return self._where or engine_address(self._base_url)

    def _reason(self, exc: Exception) -> str:
        return (self._why(exc) if self._why else None) or why_unreachable(
            engine_address(self._base_url), exc
        )

    def _connect(self, docker: Any) -> Any:
        options: dict[str, Any] = {}
        if self._timeout is not None:
            options["timeout"] = self._timeout
        if self._tls is not None:
            from docker.tls import TLSConfig

            tls = self._tls
            options["tls"] = TLSConfig(
                client_cert=(tls.cert, tls.key) if tls.cert and tls.key else None,
                ca_cert=tls.ca,
                verify=tls.ca if tls.verify and tls.ca else tls.verify,
            )
        if self._base_url and self._tls is not None:
            from vtui.backends.engine.docker_tls import tls_client

            return tls_client(self._base_url, **options)
        if self._base_url:
            return docker.DockerClient(base_url=self._base_url, **options)
        return docker.from_env(**options)

    def _docker(self) -> Any:
        if self._client is None:
            import docker  # imported here: docker-py costs start-up time

            try:
                client = self._connect(docker)
                answer = client.version()
                if not isinstance(answer, dict) or "ApiVersion" not in answer:
                    raise ValueError("its /version has no ApiVersion")
                version = answer.get("Version", "?")
            except Exception as exc:  # docker-py lets the socket's own errors through
                if "HTTP request to an HTTPS server" in str(exc):
                    raise EngineUnavailable(
                        f"{self.where} speaks TLS: give its tls_ca, tls_cert and tls_key "
                        "(config.toml [hosts.NAME]), or use its Docker context"
                    ) from exc
                if _not_docker(exc):
                    raise EngineUnavailable(
                        f"{self.where} answers, but not as a Docker engine (its /version is "
                        "not the Engine API's)"
                    ) from exc
                raise EngineUnavailable(
                    f"cannot reach the Docker engine at {self.where}: {self._reason(exc)}"
                ) from exc
            self._client = client
            self.label = f"Docker Engine {version}"
        return self._client

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import docker
        import requests

        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound as exc:
            raise NoSuchContainer(f"{what}: no such container") from exc
        except docker.errors.APIError as exc:
            raise EngineFailed(f"{what}: {exc.explanation or exc}") from exc
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            why = self._reason(exc)
            raise EngineUnavailable(f"the Docker engine stopped answering ({what}): {why}") from exc

    def _attrs(self, container_id: str) -> dict[str, Any]:
        api = self._docker().api
        attrs: dict[str, Any] = self._call("inspect", api.inspect_container, container_id)
        return attrs

    def _deployment(self, attrs: dict[str, Any]) -> Deployment:
        try:
            return self._read_deployment(attrs)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # A KeyError here is a malformed answer, not a missing container.
            raise EngineFailed(
                f"the Docker engine sent something vtui cannot read: {type(exc).__name__} "
                f"in a container's description"
            ) from exc

    def _read_deployment(self, attrs: dict[str, Any]) -> Deployment:
        host, port = _published(attrs)
        config = attrs.get("Config") or {}
        raw_state = attrs.get("State") or {}
        # Names, labels and the image are anyone's to set: shown, never obeyed.
        container_labels = {
            visible(str(k)): visible(str(v)) for k, v in dict(config.get("Labels") or {}).items()
        }
        command = tuple(str(token) for token in config.get("Cmd") or ())
        state = _state(attrs)
        started = parse_stamp(str(raw_state.get("StartedAt", "")))
        exit_code = raw_state.get("ExitCode")
        return Deployment(
            container_id=str(attrs["Id"]),
            name=visible(str(attrs.get("Name", "")).lstrip("/")),
            image=visible(str(config.get("Image", ""))),
            model=container_labels.get(labels.MODEL) or visible(served_model(command) or "?"),
            state=state,
            host=host,
            port=port,
            exit_code=exit_code
            if state in (ContainerState.EXITED, ContainerState.DEAD) and isinstance(exit_code, int)
            else None,
            labels=container_labels,
            command=command,
            started_at=started / 1e9 if started else None,
            oom_killed=bool(raw_state.get("OOMKilled")),
        )

    def inspect(self, container_id: str) -> Deployment:
        return self._deployment(self._attrs(container_id))

    def _listed(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call(
            "list containers", self._docker().api.containers, all=True
        )
        return found

    def list_deployments(self) -> list[Deployment]:
        out = []
        for entry in self._listed():
            if not _is_deployment(entry):
                continue
            try:
                out.append(self.inspect(entry["Id"]))
            except NoSuchContainer:  # removed since the list was made
                continue
        return out

    def containers_of(self, pids: Collection[int]) -> dict[int, str]:
        return self._owners.owners(pids)

    def helper_output(
        self, job: str, argv: list[str], *, all_gpus: bool, host_pid: bool, timeout: float
    ) -> str:
        """What a short-lived helper container prints (stdout and stderr, bounded): in the
        pinned vLLM image if the engine has it, else in another vLLM image it has (none is
        pulled). With all_gpus it sees every GPU: through the NVIDIA runtime when it is the
        engine's default, else by Docker's GPU request. Labelled `job` and removed after.
        Raises EngineFailed with Docker's words, EngineUnavailable when out of reach."""
        container_id = self.start_helper(
            HelperJob(job, tuple(argv), all_gpus=all_gpus, host_pid=host_pid)
        )
        api = self._docker().api
        try:
            result = self._call("wait for a helper", api.wait, container_id, timeout=timeout)
            raw = self._call("read a helper", api.logs, container_id, stdout=True, stderr=True)
        finally:
            self.remove_helper(container_id)
        text = bytes(raw[:HELPER_OUTPUT_BYTES]).decode("utf-8", "replace")
        if result.get("StatusCode") != 0:
            last = [line for line in text.splitlines() if line.strip()][-1:] or ["no output"]
            raise EngineFailed(f"{job} on {self.where}: {visible(last[0][:300])}")
        return text

    def start_helper(self, job: HelperJob) -> str:
        """Creates, fills and starts a helper container; its id. Raises EngineFailed with
        Docker's words (a name taken, say), EngineUnavailable when out of reach."""
        import docker

        client = self._docker()
        image = self._helper_image()
        options: dict[str, Any] = {
            "labels": {labels.HELPER: job.job},
            "entrypoint": list(job.argv),
            "environment": dict(job.environment),
        }
        if job.name:
            options["name"] = job.name
        if job.all_gpus:
            info = self._call("info", client.info)
            options["environment"]["NVIDIA_VISIBLE_DEVICES"] = "all"
            if not (isinstance(info, dict) and info.get("DefaultRuntime") == "nvidia"):
                options["device_requests"] = [
                    docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])
                ]
        if job.host_pid:
            options["pid_mode"] = "host"  # the GPU processes by the host's PIDs
        if job.host_network:
            options["network_mode"] = "host"
        if job.binds:
            options["volumes"] = {
                src: {"bind": dst, "mode": "rw"} for src, dst in job.binds.items()
            }
        container = self._call("create a helper", client.containers.create, image, **options)
        try:
            if job.files:
                # Put at the root, so the folders need not exist in the image.
                archive = tar_of(job.files, job.private_files)
                if not self._call("fill a helper", container.put_archive, "/", archive):
                    raise EngineFailed(f"{self.where} refused the helper's files")
            self._call("start a helper", container.start)
        except BaseException:
            self.remove_helper(container.id)
            raise
        return str(container.id)

    def helper_named(self, name: str) -> tuple[str, bool] | None:
        """A helper container of that name: its id and whether it still runs."""
        for entry in self._call(
            "list helpers", self._docker().api.containers, all=True, filters={"name": name}
        ):
            names = [str(n).lstrip("/") for n in entry.get("Names") or ()]
            if name in names and labels.HELPER in (entry.get("Labels") or {}):
                return str(entry["Id"]), entry.get("State") == "running"
        return None

    def helper_exit(self, container_id: str) -> int | None:
        """A helper's exit status once it stopped; None while it runs."""
        state = self._attrs(container_id).get("State") or {}
        if state.get("Running"):
            return None
        code = state.get("ExitCode")
        return code if isinstance(code, int) else -1

    def stop_helper(self, container_id: str, timeout: int = 10) -> None:
        with contextlib.suppress(NoSuchContainer):
            self._call("stop a helper", self._docker().api.stop, container_id, timeout=timeout)

    def remove_helper(self, container_id: str) -> None:
        with contextlib.suppress(Exception):  # gone already, or the engine with it
            self._docker().api.remove_container(container_id, force=True)

    def _helper_image(self) -> str:
        from vtui.core.vllm_release import DEFAULT_IMAGE

        images = self._call("images", self._docker().api.images)
        tags = [str(tag) for entry in images or [] for tag in entry.get("RepoTags") or []]
        if DEFAULT_IMAGE in tags:
            return DEFAULT_IMAGE
        others = sorted(tag for tag in tags if "vllm" in tag.lower())
        if not others:
            raise EngineFailed(
                f"no vLLM image on {self.where} to read its GPUs in (vtui pulls none): "
                f"pull {DEFAULT_IMAGE} there"
            )
        return others[0]

    def _running_vllm(self) -> list[str]:
        return [
            entry["Id"]
            for entry in self._listed()
            if entry.get("State") == "running" and _is_deployment(entry)
        ]

    def _host_pids(self, container_id: str) -> list[int]:
        listing = self._call("top", self._docker().api.top, container_id)
        titles = listing.get("Titles") or []
        column = titles.index("PID") if "PID" in titles else 1
        return [int(row[column]) for row in listing.get("Processes") or [] if row[column].isdigit()]

    def log_lines(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> list[LogLine]:
        api = self._docker().api
        kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": True}
        if since_ns:
            kwargs["since"] = _since_seconds(since_ns)
        if tail:
            kwargs["tail"] = tail  # the engine reads only the end: a huge log costs nothing
        # Streamed and read line by line, so no more than the lines kept is ever held.
        # (docker-py follows a stream unless told not to.)
        stream = self._call("logs", api.logs, container_id, stream=True, follow=False, **kwargs)
        return list(DockerLogFollow(stream, since_ns))

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        return [line.text for line in self.log_lines(container_id, tail=tail or None)]

    def follow_logs(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> DockerLogFollow:
        api = self._docker().api
        kwargs: dict[str, Any] = {
            "stdout": True,
            "stderr": True,
            "timestamps": True,
            "stream": True,
            "follow": True,
        }
        if since_ns:
            kwargs["since"] = _since_seconds(since_ns)
        if tail is not None:
            kwargs["tail"] = tail
        return DockerLogFollow(self._call("logs", api.logs, container_id, **kwargs), since_ns)

    # -- launching ------------------------------------------------------------------------------

    def _refuse_conflicts(self, request: RunRequest) -> None:
        existing = [
            ExistingContainer(
                container_id=entry["Id"],
                name=next((n.lstrip("/") for n in entry.get("Names") or ()), entry["Id"][:12]),
                running=entry.get("State") == "running",
                ours=(entry.get("Labels") or {}).get(labels.MANAGED) == "true",
                published=tuple(
                    (str(port.get("IP", "")), int(port["PublicPort"]))
                    for port in entry.get("Ports") or ()
                    if port.get("PublicPort")
                ),
            )
            for entry in self._listed()
        ]
        for container_id in replaced_by(request, existing):
            self._call("remove", self._docker().api.remove_container, container_id)

    def _ensure_image(self, image: str, on_pull: PullListener | None) -> None:
        import docker

        api = self._docker().api
        try:
            self._call("image", api.inspect_image, image)
            return
        except NoSuchContainer:  # inspect's NotFound: the image is not here yet
            pass
        repository, tag = docker.utils.parse_repository_tag(image)
        try:
            for event in api.pull(repository, tag=tag or "latest", stream=True, decode=True):
                if on_pull is not None:
                    on_pull(event)
                if event.get("error") or event.get("errorDetail"):
                    detail = (event.get("errorDetail") or {}).get("message") or event["error"]
                    raise EngineFailed(pull_problem(image, str(detail)))
        except docker.errors.APIError as exc:
            raise EngineFailed(pull_problem(image, str(exc.explanation or exc))) from exc

    def run(self, request: RunRequest, on_pull: PullListener | None = None) -> Deployment:
        import docker

        client = self._docker()
        self._refuse_conflicts(request)
        self._ensure_image(request.image, on_pull)
        device_requests = None
        if request.gpus == "all":
            device_requests = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
        elif isinstance(request.gpus, tuple):
            device_requests = [
                docker.types.DeviceRequest(
                    device_ids=[str(i) for i in request.gpus], capabilities=[["gpu"]]
                )
            ]
        network: dict[str, Any] = (
            {"network_mode": "host"}
            if request.host_network
            else {"ports": {f"{request.container_port}/tcp": (request.host, request.host_port)}}
        )
        container = self._call(
            "create",
            client.containers.create,
            request.image,
            list(request.command),
            name=request.name,
            entrypoint=list(request.entrypoint) if request.entrypoint is not None else None,
            environment=dict(request.environment),
            labels=dict(request.labels),
            device_requests=device_requests,
            ipc_mode="host" if request.ipc_host else None,
            volumes={src: {"bind": dst, "mode": mode} for src, dst, mode in request.volumes},
            **network,
        )
        try:
            self._call("start", container.start)
        except EngineFailed:
            # A container that never started holds the name and the port for nothing.
            self._call("remove", container.remove, force=True)
            raise
        return self.inspect(container.id)

    def api_key(self, container_id: str) -> str | None:
        for entry in (self._attrs(container_id).get("Config") or {}).get("Env") or []:
            name, _, value = entry.partition("=")
            if name == "VLLM_API_KEY":
                return str(value)
        return None

    # -- lifecycle ------------------------------------------------------------------------------

    def stop(self, container_id: str, timeout: int = 10) -> None:
        self._call("stop", self._docker().api.stop, container_id, timeout=timeout)

    def restart(self, container_id: str, timeout: int = 10) -> None:
        self._call("restart", self._docker().api.restart, container_id, timeout=timeout)

    def remove(self, container_id: str) -> None:
        if self.inspect(container_id).live:
            raise EngineRefused("the container is running: stop it before removing it")
        self._call("remove", self._docker().api.remove_container, container_id)
