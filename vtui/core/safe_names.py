"""The one path checker: names that come from outside (a Hub listing, a profile file, a
saved record) are checked here before any path is built from them.

A Hub mirror is anyone HF_ENDPOINT points at. Its listing names the files to write and the
blob ids and commit they are stored under, so a name like `../../.bashrc` or a blob id
`../../../etc/cron.d/x` would write outside the download folder. Every such name must
match what the Hub itself allows, matched whole (a trailing newline does not slip past
`$`); backends/files/safe_paths.py then checks every path built from one to stay under its
root once resolved.
"""

from __future__ import annotations

import re

from vtui.core.numbers import whole_number

# A profile's name: also its file's name and part of its container's name.
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
# The Hub's repo ids: an owner and a name of letters, digits, '-', '_' and '.', 96 at most.
REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9._-]{1,96}")
# Blob ids: a git blob's sha1 (small files) or an LFS object's sha256 (large ones).
BLOB_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
COMMIT = re.compile(r"[0-9a-f]{40}")
# A branch or tag name, or refs/pr/N: segments of safe characters.
REVISION = re.compile(r"[A-Za-z0-9._-]{1,128}(?:/[A-Za-z0-9._-]{1,128}){0,4}")
MAX_FILE_NAME = 1024
MAX_FILE_BYTES = 1 << 44  # 16 TiB: a size beyond any file is a listing's lie


class UnsafeName(ValueError):
    """A name from outside that vtui will not turn into a path; says which and why."""


def _quoted(name: str) -> str:
    # repr() shows control characters as escapes: the message itself stays harmless.
    return repr(name[:200])


def repo_id(name: object) -> str:
    if not isinstance(name, str) or not REPO_ID.fullmatch(name) or ".." in name:
        raise UnsafeName(f"{_quoted(str(name))} is not a Hub repo id (ORG/NAME)")
    return name


def blob_id(value: object, *, where: str) -> str:
    if not isinstance(value, str) or not BLOB_ID.fullmatch(value):
        raise UnsafeName(f"{where}: blob id {_quoted(str(value))} is not a 40- or 64-digit hex id")
    return value


def commit_sha(value: object) -> str:
    if not isinstance(value, str) or not COMMIT.fullmatch(value):
        raise UnsafeName(f"commit {_quoted(str(value))} is not a 40-digit hex sha")
    return value


def revision(value: object) -> str:
    if not isinstance(value, str) or not REVISION.fullmatch(value) or _dot_segment(value):
        raise UnsafeName(f"revision {_quoted(str(value))} is not a branch, tag or commit name")
    return value


def _dot_segment(path: str) -> bool:
    return any(part in (".", "..") for part in path.split("/"))


def repo_file(name: object) -> str:
    """A file name of a repo listing: relative, '/'-separated, no '..' or '.' segment, no
    backslash, no control character, no empty segment."""
    if not isinstance(name, str) or not name or len(name) > MAX_FILE_NAME:
        raise UnsafeName(f"file name {_quoted(str(name))} is empty or too long")
    bad = (
        name.startswith("/")
        or "\\" in name
        or re.search(r"[\x00-\x1f\x7f]", name)
        or _dot_segment(name)
        or "//" in name
        or name.endswith("/")
        or re.match(r"[A-Za-z]:", name)
    )
    if bad:
        raise UnsafeName(f"file name {_quoted(name)} would leave the download folder")
    return name


def file_size(value: object, *, where: str) -> int:
    """A listed file's size: a whole byte count no file exceeds (a Hub listing's, or what
    a remote host's downloader says)."""
    if not whole_number(value) or not 0 <= value <= MAX_FILE_BYTES:
        raise UnsafeName(f"{where}: size {repr(value)[:80]} is not a byte count")
    return value


def file_part(label: str, limit: int = 80) -> str:
    """`label` (a container or profile name, anyone's to choose) as one safe piece of a file
    name: ASCII letters, digits, '.', '_' and '-' only, never empty, never '.' or '..'."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in label)
    safe = safe[:limit].strip(".") or "unnamed"
    return safe
