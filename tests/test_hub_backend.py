"""The real Hub backend, against a loopback server that answers as the Hub does."""

from __future__ import annotations

import pytest

from tests.support.helpers import free_port
from tests.support.hub_server import hub_server
from vtui.backends.hub.hf import HfHub
from vtui.core.errors import BackendUnavailable
from vtui.core.model_search import SearchQuery


def test_search_asks_the_hub_for_the_most_downloaded_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with hub_server() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        found = HfHub().search(SearchQuery("qwen"), limit=3)
    assert [m.repo_id for m in found] == [
        "Qwen/Qwen2.5-7B-Instruct",
        "Qwen/Qwen3-8B",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
    ]
    # The Hub counts 7,615,000,000 BF16 parameters in the fake's metadata.
    assert found[0].params_billions == pytest.approx(7.615)
    assert found[0].size_bytes == 7_615_000_000 * 2  # BF16: two bytes a parameter
    path, query = hub.requests[-1]
    assert path == "/api/models"
    assert query["search"] == ["qwen"] and query["sort"] == ["downloads"]
    # More than asked for: what vLLM cannot serve is dropped after the Hub answers.
    assert query["limit"] == ["9"]


@pytest.mark.fault("hub-unreachable")
def test_an_unreachable_hub_is_reported_at_once() -> None:
    hub = HfHub(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(BackendUnavailable, match="out of reach"):
        hub.search(SearchQuery("llama"))


def test_offline_mode_asks_nothing_and_points_to_the_local_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with hub_server() as hub:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        with pytest.raises(BackendUnavailable, match=r"HF_HUB_OFFLINE is set.*press l"):
            HfHub(hub.url).search(SearchQuery("qwen"))
    assert hub.requests == []
