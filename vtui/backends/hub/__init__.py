"""The model hub interface: find models and read what they are."""

from __future__ import annotations

from typing import Protocol

from vtui.core.records import ModelSummary


class ModelHub(Protocol):
    label: str

    def search(self, query: str, limit: int = 30) -> list[ModelSummary]:
        """Text-generation models matching `query`, most downloaded first."""
        ...
