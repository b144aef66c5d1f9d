"""Where vtui writes a file whose name came from outside: only under the folder it belongs in,
once every link in the path is resolved (core/safe_names.py checks the names themselves)."""

from __future__ import annotations

import os
from pathlib import Path

from vtui.core.safe_names import UnsafeName


def inside(root: Path, path: Path) -> Path:
    """`path`, if it lies under `root` once both are resolved; raises UnsafeName otherwise.

    Called just before a path is opened, replaced, unlinked or linked, so a link planted in
    the folder cannot carry a write out of it."""
    base = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real != base and base not in real.parents:
        raise UnsafeName(f"{path} resolves to {real}, outside {base}: vtui will not write there")
    return path
