"""`vllm serve` as a plain process, beside the Docker engine: many users run vLLM from a
venv, conda, systemd or a SLURM job, with no container at all.

vtui starts one through its keeper (supervise.py) in a process group of its own, with the
key by environment and the log in `state/logs/processes/ID.log`; what it started is kept as
`state/processes/ID.json` (never a secret in it: the key is read back from the process's
own environment when vtui needs it). vLLM servers vtui did not start are found in /proc by
their command line (`vllm serve`, `-m vllm.entrypoints.openai.api_server`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vtui.backends.engine import PullListener
from vtui.backends.engine.log_stamps import stamped_line
from vtui.backends.files.safe_paths import inside
from vtui.backends.host.ports import port_in_use
from vtui.core import labels
from vtui.core.errors import EngineFailed, EngineRefused, NoSuchContainer
from vtui.core.process_command import served_from_argv
from vtui.core.records import ContainerState, Deployment, LogLine, RunRequest
from vtui.core.terminal_text import visible

PREFIX = "proc-"
KEEPER = "vtui.backends.engine.supervise"
FOLLOW_POLL_S = 0.2
PROC = Path("/proc")
# How long a start may take to show its keeper alive before vtui calls it failed.
START_WAIT_S = 5.0


@dataclass(frozen=True)
class _Started:
    """What vtui knows of a process it started: the record file, as written at start."""

    process_id: str
    name: str
    argv: tuple[str, ...]
    host: str
    port: int
    labels: dict[str, str]
    pgid: int  # the keeper's PID, which leads the group
    started_at: float
    log: Path


class ProcessLogFollow:
    """The log file from a point on, then each line as it is written; ends when the process
    has ended and the file is read to its end. Survives the file being replaced."""

    def __init__(self, engine: ProcessEngine, process_id: str, since_ns: int | None) -> None:
        self._engine, self._id, self._since = engine, process_id, since_ns or 0
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[LogLine]:
        offset, inode = 0, None
        while not self._closed.is_set():
            started = self._engine._started(self._id)
            live = self._engine.inspect(self._id).live
            try:
                with started.log.open("rb") as log:
                    now_inode = os.fstat(log.fileno()).st_ino
                    if inode is not None and now_inode != inode:
                        offset = 0  # a new file under the old name: read it from the start
                    inode = now_inode
                    log.seek(offset)
                    chunk = log.read()
            except FileNotFoundError:
                chunk = b""
            whole = chunk[: chunk.rfind(b"\n") + 1]
            offset += len(whole)
            for raw in whole.splitlines():
                line = stamped_line(raw)
                if line.at_ns >= self._since:
                    yield line
            if not live and not whole:
                return
            self._closed.wait(FOLLOW_POLL_S)

    def close(self) -> None:
        self._closed.set()


class ProcessEngine:
    label = "processes"

    def __init__(self, state_dir: Path, proc: Path = PROC) -> None:
        self.records = state_dir / "processes"
        self.logs_dir = state_dir / "logs" / "processes"
        self._proc = proc

    def now(self) -> float:
        return time.time()

    # -- what vtui started ----------------------------------------------------------------------

    def _record_path(self, process_id: str) -> Path:
        if not process_id.startswith(PREFIX) or not process_id[len(PREFIX) :].isalnum():
            raise NoSuchContainer(f"no such process: {process_id[:24]}")
        return self.records / f"{process_id}.json"

    def _started(self, process_id: str) -> _Started:
        path = self._record_path(process_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return _Started(
                process_id=process_id,
                name=str(data["name"]),
                argv=tuple(str(a) for a in data["argv"]),
                host=str(data["host"]),
                port=int(data["port"]),
                labels={str(k): str(v) for k, v in dict(data["labels"]).items()},
                pgid=int(data["pgid"]),
                started_at=float(data["started_at"]),
                log=self.logs_dir / f"{process_id}.log",
            )
        except FileNotFoundError:
            raise NoSuchContainer(f"no such process: {process_id[:24]}") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EngineFailed(f"{path}: vtui cannot read its own record ({exc})") from exc

    def _ended(self, started: _Started) -> dict[str, Any] | None:
        exit_file = self._record_path(started.process_id).with_suffix(".exit")
        try:
            data = json.loads(exit_file.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}

    def _keeper_alive(self, started: _Started) -> bool:
        """The keeper still runs (its PID, and the command line vtui gave it: a PID reused by
        another program is no keeper)."""
        try:
            cmdline = (self._proc / str(started.pgid) / "cmdline").read_bytes()
            state = (self._proc / str(started.pgid) / "stat").read_text().rsplit(")", 1)[1]
        except (OSError, IndexError):
            return False
        if state.split()[0] == "Z":  # ended, not yet reaped by the vtui that started it
            return False
        return KEEPER.encode() in cmdline and started.process_id.encode() in cmdline

    def _deployment(self, started: _Started) -> Deployment:
        ended = self._ended(started)
        alive = self._keeper_alive(started)
        code: int | None = None
        if alive and ended is None:
            state = ContainerState.RUNNING
        else:
            state = ContainerState.EXITED
            if ended:
                signalled = ended.get("signal")
                raw = ended.get("code")
                code = 128 + int(signalled) if signalled else int(raw) if raw is not None else None
            else:
                code = 137  # the keeper itself was killed (SIGKILL of the group)
        model, served = served_from_argv(started.argv)
        return Deployment(
            container_id=started.process_id,
            # The record is vtui's, but a hand may have edited it: shown, never obeyed.
            name=visible(started.name),
            image=visible(started.argv[0]) if started.argv else "vllm",
            model=visible(served or model or "?"),
            state=state,
            host=started.host,
            port=started.port,
            exit_code=code,
            labels=dict(started.labels) | {labels.RUNTIME: "process"},
            command=tuple(visible(a) for a in started.argv[1:]),
            started_at=started.started_at,
            oom_killed=False,
        )

    def _ids(self) -> list[str]:
        if not self.records.is_dir():
            return []
        return sorted(p.stem for p in self.records.glob(f"{PREFIX}*.json"))

    def _all_started(self) -> list[_Started]:
        """Every record that reads (one a hand or a crash broke is passed over)."""
        out = []
        for process_id in self._ids():
            with contextlib.suppress(NoSuchContainer, EngineFailed):
                out.append(self._started(process_id))
        return out

    # -- found on the machine ---------------------------------------------------------------------

    def _found(self, kept: set[int]) -> list[Deployment]:
        """vLLM servers running here that vtui did not start (not in one of the `kept`
        process groups, vtui's own), read from /proc."""
        found = []
        for entry in self._proc.iterdir() if self._proc.is_dir() else ():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "cmdline").read_bytes().split(b"\0")
                # Any program's command line: shown, never obeyed, as a container's name is.
                argv = [visible(a.decode("utf-8", "replace")) for a in raw if a]
                pgid = _group_of(entry)
            except (OSError, ValueError, IndexError):
                continue
            if not _is_vllm_server(argv) or pgid in kept:
                continue  # not vLLM, or one of vtui's own (its keeper leads the group)
            model, served = served_from_argv(tuple(argv))
            host, port = _listen_address(argv)
            found.append(
                Deployment(
                    container_id=f"{PREFIX}pid{entry.name}",
                    name=f"vllm-pid{entry.name}",
                    image=argv[0],
                    model=served or model or "?",
                    state=ContainerState.RUNNING,
                    host=host,
                    port=port,
                    labels={labels.RUNTIME: "process"},
                    command=tuple(argv[1:]),
                )
            )
        return found

    # -- the engine interface -------------------------------------------------------------------

    def list_deployments(self) -> list[Deployment]:
        started = self._all_started()
        ours = [self._deployment(s) for s in started]
        return ours + self._found({s.pgid for s in started})

    def inspect(self, container_id: str) -> Deployment:
        if container_id.startswith(f"{PREFIX}pid"):
            for d in self.list_deployments():
                if d.container_id == container_id:
                    return d
            raise NoSuchContainer(f"no such process: {container_id}")
        return self._deployment(self._started(container_id))

    def log_lines(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> list[LogLine]:
        if container_id.startswith(f"{PREFIX}pid"):
            return []  # a server vtui did not start: its log is wherever its owner sent it
        started = self._started(container_id)
        try:
            raw = started.log.read_bytes()
        except FileNotFoundError:
            return []
        lines = [stamped_line(r) for r in raw.splitlines()]
        lines = [line for line in lines if line.at_ns >= (since_ns or 0)]
        return lines[-tail:] if tail else lines

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        return [line.text for line in self.log_lines(container_id, tail=tail or None)]

    def follow_logs(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> ProcessLogFollow:
        self.inspect(container_id)  # NoSuchContainer now, as the Docker engine does
        if tail:
            lines = self.log_lines(container_id, since_ns)
            if len(lines) > tail:
                since_ns = lines[-tail].at_ns
        return ProcessLogFollow(self, container_id, since_ns)

    def run(self, request: RunRequest, on_pull: PullListener | None = None) -> Deployment:
        """Starts the request's argv (`image` is the vllm program, `command` what follows
        it) through the keeper. Refuses a name vtui already runs and a port taken."""
        program = request.image
        if os.sep in program and not os.access(program, os.X_OK):
            raise EngineRefused(f"{program}: no such program (the profile's vllm path)")
        here = self.list_deployments()
        for d in here:
            if d.live and d.name == request.name:
                raise EngineRefused(
                    f'a process named "{request.name}" is already running; stop it first '
                    f"(vtui down {request.name})"
                )
        if port_in_use(request.host, request.host_port):
            raise EngineRefused(
                f"port {request.host_port} on {request.host} is already taken; stop what "
                "holds it or choose another port"
            )
        for d in here:  # a stopped one of the same name is replaced
            if d.name == request.name and d.managed:
                self.remove(d.container_id)
        environment = dict(os.environ) | dict(request.environment)
        if isinstance(request.gpus, tuple):
            environment["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in request.gpus)
        elif request.gpus is None:
            environment["CUDA_VISIBLE_DEVICES"] = ""
        process_id = PREFIX + secrets.token_hex(16)
        self._launch(process_id, request, environment)
        return self.inspect(process_id)

    def _launch(self, process_id: str, request: RunRequest, environment: dict[str, str]) -> None:
        import subprocess

        self.records.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        record = self._record_path(process_id)
        log = inside(self.logs_dir, self.logs_dir / f"{process_id}.log")
        argv = [request.image, *request.command]
        keeper = [sys.executable, "-m", KEEPER, str(record), str(log), "--", *argv]
        try:
            child = subprocess.Popen(
                keeper,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own group: a stop reaches every worker
                close_fds=True,
            )
        except OSError as exc:
            why = exc.strerror or exc
            raise EngineFailed(f"cannot start vtui's process keeper: {why}") from exc
        data = {
            "name": request.name,
            "argv": argv,
            "host": request.host,
            "port": request.host_port,
            "labels": dict(request.labels),
            "pgid": child.pid,
            "started_at": time.time(),
        }
        temporary = record.with_suffix(".json.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temporary, record)
        # Reaped in the background when it ends while this vtui still runs.
        threading.Thread(target=child.wait, name="vtui-keeper-reaper", daemon=True).start()

    def containers_of(self, pids: Collection[int]) -> dict[int, str]:
        groups = {s.pgid: s.process_id for s in self._all_started()}
        owners = {}
        for pid in pids:
            try:
                pgid = _group_of(self._proc / str(pid))
            except (OSError, ValueError, IndexError):
                continue
            if pgid in groups:
                owners[pid] = groups[pgid]
        return owners

    def api_key(self, container_id: str) -> str | None:
        """The key the server was given, read from its own environment (never kept by vtui)."""
        if container_id.startswith(f"{PREFIX}pid"):
            return None
        return self._environment(self._started(container_id)).get("VLLM_API_KEY")

    def _environment(self, started: _Started) -> dict[str, str]:
        """The keeper's environment: the one vLLM was started with (empty once it ended)."""
        if not self._keeper_alive(started):
            return {}
        try:
            raw = (self._proc / str(started.pgid) / "environ").read_bytes()
        except OSError:
            return {}
        pairs = (entry.partition(b"=") for entry in raw.split(b"\0") if b"=" in entry)
        return {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, _, v in pairs}

    def stop(self, container_id: str, timeout: int = 10) -> None:
        """SIGTERM to the whole group, then SIGKILL after `timeout` seconds."""
        if container_id.startswith(f"{PREFIX}pid"):
            raise EngineRefused("vtui did not start this process: stop it where it was started")
        started = self._started(container_id)
        if not self._keeper_alive(started):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(started.pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._keeper_alive(started):
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(started.pgid, signal.SIGKILL)
        _write_exit(self._record_path(container_id).with_suffix(".exit"), signal.SIGKILL)

    def restart(self, container_id: str, timeout: int = 10) -> None:
        """Stop, then start the same command with the same environment under the same id,
        its log going on in the same file (as a container's restart keeps its log)."""
        started = self._started(container_id)
        environment = self._environment(started)
        if not environment:
            profile = started.labels.get(labels.PROFILE, "PROFILE")
            raise EngineRefused(
                f"{started.name} is not running, so its environment (the key) is gone: "
                f"start it again with `vtui up {profile}`"
            )
        self.stop(container_id, timeout)
        with contextlib.suppress(FileNotFoundError):
            self._record_path(container_id).with_suffix(".exit").unlink()
        request = RunRequest(
            image=started.argv[0],
            name=started.name,
            command=started.argv[1:],
            host=started.host,
            host_port=started.port,
            container_port=started.port,
            labels=started.labels,
            runtime="process",
        )
        self._launch(container_id, request, environment)

    def remove(self, container_id: str) -> None:
        if self.inspect(container_id).live:
            raise EngineRefused("the process is running: stop it before removing it")
        record = self._record_path(container_id)
        for path in (record, record.with_suffix(".exit"), self.logs_dir / f"{container_id}.log"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _group_of(entry: Path) -> int:
    """A process's group, from /proc/PID/stat (the name in parentheses may hold spaces)."""
    stat = (entry / "stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[2])


def _write_exit(path: Path, signum: int) -> None:
    if not path.exists():
        path.write_text(json.dumps({"code": None, "signal": int(signum), "at": time.time()}))


def _is_vllm_server(argv: list[str]) -> bool:
    if len(argv) >= 2 and os.path.basename(argv[0]) == "vllm" and argv[1] == "serve":
        return True
    names = [os.path.basename(a) for a in argv[:3]]
    if any(n.startswith("python") for n in names[:1]) and "serve" in argv[1:4]:
        return any(os.path.basename(a) == "vllm" for a in argv[1:3])
    return "vllm.entrypoints.openai.api_server" in argv[:4]


def _listen_address(argv: list[str]) -> tuple[str, int]:
    host, port = "127.0.0.1", 8000
    for i, arg in enumerate(argv):
        value = argv[i + 1] if i + 1 < len(argv) else ""
        if arg.startswith("--port="):
            value, arg = arg.partition("=")[2], "--port"
        if arg.startswith("--host="):
            value, arg = arg.partition("=")[2], "--host"
        if arg == "--port" and value.isdigit():
            port = int(value)
        elif arg == "--host" and value:
            host = "127.0.0.1" if value in ("0.0.0.0", "::", "") else value
    return host, port
