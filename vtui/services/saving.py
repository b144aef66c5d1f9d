"""Files the user asks vtui to write: saved logs, compose bundles. Each lands in this run's
folders (the demo's own under --demo), never in a place the front end picked itself."""

from __future__ import annotations

import time
from pathlib import Path

from vtui.backends.files.new_files import claim_new
from vtui.backends.files.profile_store import write_compose_bundle
from vtui.backends.registry import Backends
from vtui.core.launch_spec import LaunchSpec
from vtui.core.renderings import render_compose
from vtui.core.safe_names import file_part


def save_log(backends: Backends, name: str, text: str) -> Path:
    """The log under the state folder's logs/, named by container and time (never over one
    saved in the same second). Raises OSError."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (path,) = claim_new(backends.places.logs, f"{file_part(name or 'log')}-{stamp}", (".log",))
    path.write_text(text, encoding="utf-8")
    return path


def save_chat(backends: Backends, stamp: str, as_json: str, as_markdown: str) -> tuple[Path, Path]:
    """The conversation as chat-STAMP.json and .md in the chats folder, both new (a second
    save in the same second gets chat-STAMP-2). Raises OSError."""
    json_path, md_path = claim_new(backends.places.chats, f"chat-{stamp}", (".json", ".md"))
    json_path.write_text(as_json, encoding="utf-8")
    md_path.write_text(as_markdown, encoding="utf-8")
    return json_path, md_path


def output_path(backends: Backends, asked: str | Path) -> Path:
    """A path the user typed: as given when absolute (or ~), else in the output folder (the
    current directory, or the demo's own folder under --demo)."""
    path = Path(asked).expanduser()
    return path if path.is_absolute() else backends.places.output / path


def write_compose(backends: Backends, spec: LaunchSpec, path: Path) -> Path:
    """The compose file at `path` and its .env (the key, mode 0600) beside it; returns the
    .env's path. Raises OSError, ProfileError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_compose_bundle(path, render_compose(spec), backends.profiles().api_key(spec.name))
