"""Launch profiles on disk: one TOML file each, edited by hand or by vtui, comments kept.

    $XDG_CONFIG_HOME/vtui/profiles/NAME.toml   (default ~/.config/vtui/...)
    $XDG_CONFIG_HOME/vtui/keys/NAME.key        the profile's API key, referenced by the profile

Writes are atomic (a temporary file renamed over the old one) and private (0600): a
profile names its key file, and a key file holds a secret. A file that does not parse
is reported with its line and column and is never overwritten.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.items import Table

from vtui.core.errors import ProfileError
from vtui.core.hosts import HostProblem, host_name
from vtui.core.launch_spec import NO_GPU, PROCESS, RUNTIMES, LaunchSpec
from vtui.core.multinode import DEFAULT_RAY_PORT, address_problem
from vtui.core.numbers import whole_number
from vtui.core.safe_names import PROFILE_NAME
from vtui.core.vllm_release import API_KEY_VAR, DEFAULT_IMAGE
from vtui.locations import config_dir

TOP_KEYS = (
    "model",
    "image",
    "gpus",
    "container_name",
    "host",
    "port",
    "served_model_name",
    "hf_cache",
    "offline",
    "api_key_file",
    "extra_args",
    "runtime",
    "vllm_program",
    "docker_host",
    "worker_hosts",
    "head_address",
    "ray_port",
)
NEW_PROFILE_HEADER = (
    "vtui launch profile. Edit freely: vtui keeps your comments and your layout.",
    "[vllm] holds vLLM's own arguments, named as on the command line without the dashes.",
)


_GPUS_ARE = 'gpus must be "all", "none" or a list of GPU indices'


def private_dir(folder: Path) -> None:
    """A folder of secrets, made or tightened to 0700 (an older vtui, or a umask, may have
    left it open to others); ProfileError when it is not the user's to tighten."""
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return
    info = folder.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise ProfileError(f"{folder} is a symbolic link: vtui keeps keys only in a real folder")
    if info.st_mode & 0o077:
        try:
            os.chmod(folder, 0o700)
        except OSError as exc:
            raise ProfileError(
                f"{folder} is open to other users and vtui cannot close it ({exc.strerror}): "
                f"chmod 700 {folder}"
            ) from None


def read_private(path: Path) -> str:
    """A secret file's text, once it is known to be a plain file of this user's that no one
    else can read. Raises FileNotFoundError, or ProfileError saying what is wrong."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ProfileError(
                f"{path} is a symbolic link: vtui reads no key through one"
            ) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ProfileError(f"{path} is not a plain file: vtui will not read a key from it")
        if info.st_uid != os.getuid():
            raise ProfileError(
                f"{path} belongs to user {info.st_uid}, not to you: vtui will not trust its key"
            )
        if info.st_mode & 0o077:
            raise ProfileError(
                f"{path} can be read by others (mode {stat.S_IMODE(info.st_mode):o}): "
                f"chmod 600 {path}, and make a new key if others may have read it"
            )
        with os.fdopen(fd, encoding="utf-8") as handle:
            fd = -1
            return handle.read(4096)
    finally:
        if fd >= 0:
            os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class ProfileStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or config_dir()
        self.profiles_dir = self.root / "profiles"
        self.keys_dir = self.root / "keys"

    def path(self, name: str) -> Path:
        if not PROFILE_NAME.fullmatch(name):
            raise ProfileError(
                f"{name!r} is not a profile name: use letters, digits, '.', '_' or '-'"
            )
        return self.profiles_dir / f"{name}.toml"

    def key_path(self, name: str) -> Path:
        """Where the profile's API key is kept."""
        return self.keys_dir / f"{name}.key"

    def names(self) -> list[str]:
        if not self.profiles_dir.is_dir():
            return []
        return sorted(
            p.stem for p in self.profiles_dir.glob("*.toml") if PROFILE_NAME.fullmatch(p.stem)
        )

    def _document(self, path: Path) -> tomlkit.TOMLDocument:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProfileError(f"{path}: no such profile") from None
        except OSError as exc:
            raise ProfileError(f"{path}: cannot read it ({exc.strerror})") from None
        try:
            return tomlkit.parse(text)
        except ParseError as exc:
            raise ProfileError(f"{path}:{exc.line}:{exc.col}: {exc}") from None

    def load(self, name: str) -> LaunchSpec:
        path = self.path(name)
        data = self._document(path).unwrap()
        return _spec_from(name, data, path)

    def save(self, spec: LaunchSpec) -> Path:
        """Write the spec, keeping whatever comments and layout the file already has."""
        path = self.path(spec.name)
        doc = self._document(path) if path.exists() else _new_document()
        _fill(doc, spec, self._key_reference(spec.name, doc))
        atomic_write(path, tomlkit.dumps(doc))
        return path

    def put(self, spec: LaunchSpec) -> Path:
        """Save the spec, creating the profile (and its key) if it is new."""
        return self.save(spec) if self.path(spec.name).exists() else self.create(spec)

    def create(self, spec: LaunchSpec) -> Path:
        """A new profile; refused when one of that name exists, even when another vtui
        creates it at the same moment (the name is claimed with O_EXCL first)."""
        path = self.path(spec.name)
        private_dir(path.parent)
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise ProfileError(f"{path}: a profile of that name exists") from None
        try:
            self.api_key(spec.name)
            atomic_write(path, tomlkit.dumps(self._filled(_new_document(), spec)))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            raise
        return path

    def _filled(self, doc: tomlkit.TOMLDocument, spec: LaunchSpec) -> tomlkit.TOMLDocument:
        _fill(doc, spec, self._key_reference(spec.name, doc))
        return doc

    def duplicate(self, name: str, new_name: str) -> Path:
        spec = self.load(name)
        fields = {k: getattr(spec, k) for k in spec.__dataclass_fields__}
        return self.create(LaunchSpec(**(fields | {"name": new_name, "container_name": ""})))

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.exists():
            raise ProfileError(f"{path}: no such profile")
        path.unlink()
        with contextlib.suppress(FileNotFoundError):
            self.key_path(name).unlink()

    def api_key(self, name: str) -> str:
        """The profile's API key, made on first use: 32 random bytes, URL-safe. A key file
        that is a link, someone else's, or readable by others is refused, with why."""
        key_path = self.key_path(name)
        private_dir(key_path.parent)
        try:
            key = read_private(key_path).strip()
            if key:
                return key
        except FileNotFoundError:
            pass
        key = secrets.token_urlsafe(32)
        atomic_write(key_path, key + "\n")
        return key

    def _key_reference(self, name: str, doc: tomlkit.TOMLDocument) -> str:
        existing = doc.get("api_key_file")
        return str(existing) if existing else str(self.key_path(name).relative_to(self.root))


def _new_document() -> tomlkit.TOMLDocument:
    doc = tomlkit.document()
    for line in NEW_PROFILE_HEADER:
        doc.add(tomlkit.comment(line))
    return doc


def _fill(doc: tomlkit.TOMLDocument, spec: LaunchSpec, key_file: str) -> None:
    values: dict[str, Any] = {
        "model": spec.model,
        "image": spec.image,
        "gpus": spec.gpus if isinstance(spec.gpus, str) else list(spec.gpus),
        "container_name": spec.container_name or None,
        "host": spec.host,
        "port": spec.port,
        "served_model_name": spec.served_model_name or None,
        "hf_cache": spec.hf_cache or None,
        "offline": spec.offline,
        "api_key_file": key_file,
        "extra_args": list(spec.extra_args) or None,
        "runtime": spec.runtime if spec.runtime != "docker" else None,
        "vllm_program": spec.vllm_program if spec.runtime == PROCESS else None,
        "docker_host": spec.docker_host or None,
        "worker_hosts": list(spec.worker_hosts) or None,
        "head_address": spec.head_address or None,
        "ray_port": spec.ray_port if spec.multinode and spec.ray_port != DEFAULT_RAY_PORT else None,
    }
    for key in TOP_KEYS:
        _set(doc, key, values[key])
    _set_table(doc, "env", dict(spec.env))
    args = {flag.removeprefix("--"): _inline(v) for flag, v in spec.args.items() if v is not None}
    _set_table(doc, "vllm", args)


def _inline(value: Any) -> Any:
    """A JSON-valued argument stays on its own line, as `name = { image = 2 }`."""
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        table.update(value)
        return table
    return value


def _set(container: Any, key: str, value: Any) -> None:
    if value is None:
        if key in container:
            del container[key]
    elif key not in container or container[key] != value:
        container[key] = value  # assigning an existing key keeps its comment


def _set_table(doc: tomlkit.TOMLDocument, name: str, values: dict[str, Any]) -> None:
    if not values:
        if name in doc:
            del doc[name]
        return
    if name not in doc or not isinstance(doc[name], Table):
        doc[name] = tomlkit.table()
    table = doc[name]
    for key in [k for k in table if k not in values]:
        del table[key]
    for key, value in values.items():
        _set(table, key, value)


def _spec_from(name: str, data: dict[str, Any], path: Path) -> LaunchSpec:
    def want(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = data.get(key, default)
        if value is not default and not isinstance(value, kind):
            raise ProfileError(f"{path}: {key} has the wrong type ({type(value).__name__})")
        return value

    model = want("model", str, None)
    if model is None:
        raise ProfileError(f"{path}: model is missing (a Hub repo id or a model directory)")
    gpus = want("gpus", (str, list), "all")
    if isinstance(gpus, list):
        if not all(whole_number(i) for i in gpus):
            raise ProfileError(f"{path}: {_GPUS_ARE}")
        gpus = tuple(gpus)
    elif gpus not in ("all", NO_GPU):
        raise ProfileError(f"{path}: {_GPUS_ARE}")
    runtime = want("runtime", str, "docker")
    if runtime not in RUNTIMES:
        raise ProfileError(f'{path}: runtime must be "docker" or "process", not {runtime!r}')
    docker_host = want("docker_host", str, "")
    if docker_host:
        try:
            host_name(docker_host, f"{path}: docker_host")
        except HostProblem as exc:
            raise ProfileError(str(exc)) from None
        if runtime == PROCESS:
            raise ProfileError(f"{path}: a process profile runs on this machine: no docker_host")
    workers = want("worker_hosts", list, [])
    for worker in workers:
        try:
            host_name(worker, f"{path}: worker_hosts")
        except HostProblem as exc:
            raise ProfileError(str(exc)) from None
    head_address = want("head_address", str, "")
    if head_address and address_problem(head_address):
        raise ProfileError(f"{path}: head_address: {address_problem(head_address)}")
    ray_port = want("ray_port", int, DEFAULT_RAY_PORT)
    if not whole_number(ray_port) or not 1 <= ray_port <= 65535:
        raise ProfileError(f"{path}: ray_port must be a port number (1-65535)")
    vllm = want("vllm", dict, {})
    env = want("env", dict, {})
    extra = want("extra_args", list, [])
    return LaunchSpec(
        name=name,
        model=model,
        image=want("image", str, DEFAULT_IMAGE),
        gpus=gpus,
        container_name=want("container_name", str, ""),
        host=want("host", str, "127.0.0.1"),
        port=want("port", int, 8000),
        served_model_name=want("served_model_name", str, ""),
        hf_cache=want("hf_cache", str, ""),
        offline=want("offline", bool, None),
        env={str(k): str(v) for k, v in env.items()},
        args={f"--{k}": v for k, v in vllm.items()},
        extra_args=tuple(str(t) for t in extra),
        runtime=runtime,
        vllm_program=want("vllm_program", str, "vllm"),
        docker_host=docker_host,
        worker_hosts=tuple(workers),
        head_address=head_address,
        ray_port=ray_port,
    )


def write_compose_bundle(output: Path, compose_text: str, api_key: str) -> Path:
    """The compose file, and beside it a private .env with the key (other .env lines kept).

    Compose reads VLLM_API_KEY from that .env; the compose file itself holds no secret.
    Returns the .env's path.
    """
    atomic_write(output, compose_text)
    os.chmod(output, 0o644)
    env_path = output.resolve().parent / ".env"
    kept = []
    if env_path.exists():
        kept = [
            line
            for line in env_path.read_text(encoding="utf-8").splitlines()
            if not line.startswith(f"{API_KEY_VAR}=")
        ]
    atomic_write(env_path, "\n".join([*kept, f"{API_KEY_VAR}={api_key}"]) + "\n")
    return env_path
