"""What can go wrong at a boundary, as types that carry the words to show.

Callers catch a family (`EngineError`, `HubError`) and print `str(exc)`: no tuple of
built-in exceptions to repeat, no quotes to strip from a KeyError.
"""

from __future__ import annotations


class VtuiError(Exception):
    """A failure with words a user can act on; `str()` is exactly those words."""

    def __init__(self, words: str) -> None:
        super().__init__(words)
        self.words = words

    def __str__(self) -> str:
        return self.words


class BackendUnavailable(VtuiError):
    """A backend cannot answer at all; `reason` says why in words a user can act on."""

    @property
    def reason(self) -> str:
        return self.words


# -- the container engine ---------------------------------------------------------------------


class EngineError(VtuiError):
    """The container engine could not do what was asked."""


class NoSuchContainer(EngineError):
    """The container is gone (or never was)."""


class EngineRefused(EngineError):
    """The request was refused before anything changed: a name or port taken, a running
    container asked to be removed."""


class EngineFailed(EngineError):
    """The engine tried and failed (pull, create, start), or sent what vtui cannot read."""


class EngineUnavailable(EngineError, BackendUnavailable):
    """The engine cannot be reached at all."""


# -- the model hub ----------------------------------------------------------------------------


class HubError(VtuiError):
    """The Hub (or the local model files it fills) could not do what was asked."""


class HubUnavailable(HubError, BackendUnavailable):
    """The Hub cannot answer: out of reach, rate limited, or its answer unreadable."""


class NoSuchModel(HubUnavailable):
    """The Hub has no such repo, or the repo lacks what vLLM reads (config.json)."""


class DownloadError(HubError):
    """A download that cannot go on, with what to do about it."""


class Cancelled(HubError):
    """The user stopped the download; what came stays for the next run."""

    def __init__(self, words: str = "stopped; what came is kept") -> None:
        super().__init__(words)


# -- local files ------------------------------------------------------------------------------


class ProfileError(VtuiError):
    """A profile cannot be read or written; the words name the file and, if known, the line."""


class CheckpointNotFound(VtuiError):
    """No config.json where the user pointed; the words say where vtui looked."""
