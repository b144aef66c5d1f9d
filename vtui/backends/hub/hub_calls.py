"""Asking the Hub, for the catalogue (hf.py) and the downloader (download.py) alike: the
offline switch, one deadline for a whole answer, and what a failure means in words."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from vtui.core.errors import HubUnavailable
from vtui.core.terminal_text import visible

# A whole answer from the Hub comes within this, however slowly its bytes trickle.
HUB_DEADLINE_S = float(120)
_T = TypeVar("_T")


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub reads it (1, ON, YES, TRUE)."""
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def within_deadline(endpoint: str, what: str, ask: Callable[[], _T]) -> _T:
    """`ask()`, answered within HUB_DEADLINE_S: huggingface_hub's timeouts restart at
    every byte, so a mirror trickling its answer would otherwise hold the caller for
    ever. The call runs in a thread of its own, which is left behind if it is late."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = ask()
        except BaseException as exc:  # handed to the caller, whatever it is
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="vtui-hub-call", daemon=True).start()
    if not done.wait(HUB_DEADLINE_S):
        raise HubUnavailable(
            f"the Hub at {endpoint} gave no whole answer to {what} in "
            f"{HUB_DEADLINE_S:.0f} s: it may be overloaded, or not a Hub"
        )
    if "error" in box:
        raise box["error"]
    value: _T = box["value"]
    return value


def hub_problem(repo_id: str, exc: Exception) -> str:
    """What went wrong asking the Hub about a repo, and what to do: for huggingface_hub's
    errors and for HTTP status errors alike (the downloader's own requests)."""
    name = type(exc).__name__
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if "GatedRepo" in name or status in (401, 403):
        return (
            f"{repo_id} is gated or private: accept its terms on the model page, then "
            "`hf auth login` or set HF_TOKEN"
        )
    if "RepositoryNotFound" in name or (status == 404 and "Revision" not in name):
        return f"{repo_id}: no such model on the Hub (or it is private)"
    if "RevisionNotFound" in name:
        return f"{repo_id}: no such revision"
    if status == 429:
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        wait = headers.get("Retry-After", "")
        when = f"in {wait} s" if wait.isdigit() and int(wait) > 0 else "in a minute"
        return (
            f"the Hub is rate limiting this machine (HTTP 429): try again {when}; signed-in "
            "users (`hf auth login` or HF_TOKEN) get a higher limit"
        )
    if isinstance(exc, OSError) or "Connect" in name or "Timeout" in name:
        return f"the Hub is out of reach ({name}): check the network and rerun"
    return f"the Hub did not answer for {repo_id} ({name}: {visible(str(exc)[:160])})"
