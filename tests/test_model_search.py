"""Finding a model: filters and sorts as the Hub applies them, what vtui keeps of the
answer, the details of one model, and a Hub that rate limits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.hub_server import GATED, hub_server
from vtui.backends.hub.hf import HfHub
from vtui.core.errors import BackendUnavailable
from vtui.core.model_details import detail_lines
from vtui.core.model_search import SearchQuery, hub_num_parameters, quantization_of


def ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return [m.repo_id for m in found]


def test_quantization_is_named_from_the_hubs_tags() -> None:
    assert quantization_of("Qwen/Qwen3-8B-AWQ", ["safetensors", "awq", "4-bit"]) == "AWQ"
    assert quantization_of("x/y", ["compressed-tensors", "fp8"]) == "FP8"
    assert quantization_of("unsloth/Llama-3.1-8B-Instruct-bnb-4bit", ["safetensors"]) == "bnb"
    assert quantization_of("Qwen/Qwen3-8B-GGUF", ["gguf"]) == "GGUF"
    assert quantization_of("x/y", ["compressed-tensors"]) == "compressed-tensors"
    assert quantization_of("Qwen/Qwen3-8B", ["safetensors", "text-generation"]) is None


def test_size_bands_become_the_hubs_parameter_filter() -> None:
    assert hub_num_parameters(SearchQuery(size="4-16B")) == "min:4B,max:16B"
    assert hub_num_parameters(SearchQuery(size="0-4B")) == "max:4B"
    assert hub_num_parameters(SearchQuery(size="80B+")) == "min:80B"
    assert hub_num_parameters(SearchQuery()) is None


def test_filters_and_sorts_are_asked_of_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    with hub_server() as hub:
        api = HfHub(hub.url)
        awq = api.search(SearchQuery(quant="AWQ"))
        assert hub.requests[-1][1]["filter"] == ["awq"]
        by_author = api.search(SearchQuery(author="meta-llama", sort="likes"))
        assert hub.requests[-1][1]["author"] == ["meta-llama"]
        assert hub.requests[-1][1]["sort"] == ["likes"]
        large = api.search(SearchQuery(size="16-80B"))
        assert hub.requests[-1][1]["num_parameters"] == ["min:16B,max:80B"]
        trending = api.search(SearchQuery(sort="trending"), limit=2)
        assert hub.requests[-1][1]["sort"] == ["trendingScore"]
        full = api.search(SearchQuery("llama", quant="none"))
    assert ids(awq) == ["Qwen/Qwen3-8B-AWQ"] and awq[0].quant == "AWQ"
    assert ids(by_author) == [
        "meta-llama/Llama-3.1-8B-Instruct",
        "meta-llama/Llama-3.3-70B-Instruct",
    ]
    assert all(m.gated == "manual" for m in by_author)
    assert all(16 <= (m.params_billions or 0) < 80 for m in large) and len(large) >= 4
    assert ids(trending) == ["meta-llama/Llama-3.1-8B-Instruct", "openai/gpt-oss-120b"]
    # The FP8 and bnb copies of Llama match "llama" too, but are quantized.
    assert "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8" not in ids(full) and len(full) == 2
    assert by_author[0].last_modified == "2024-12-15"


def test_gguf_repos_are_listed_but_marked_and_not_downloaded(tmp_path: Path) -> None:
    with hub_server() as hub:
        found = HfHub(hub.url).search(SearchQuery("qwen3-8b"))
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "vtui", "download", "Qwen/Qwen3-8B-GGUF"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        listed = subprocess.run(
            [sys.executable, "-m", "vtui", "search", "qwen3-8b"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    gguf = next(m for m in found if m.repo_id == "Qwen/Qwen3-8B-GGUF")
    assert gguf.quant == "GGUF" and not gguf.has_safetensors
    assert done.returncode == 1 and "GGUF files only" in done.stderr
    assert "experimental" in done.stderr and "Traceback" not in done.stderr
    assert "GGUF*" in listed.stdout and "experimental" in listed.stdout


def test_details_say_what_vllm_downloads_and_what_the_model_is(tmp_path: Path) -> None:
    with hub_server() as hub, pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(tmp_path))
        details = HfHub(hub.url).details("Qwen/Qwen3-8B")
    # 5 shards + config.json + tokenizer.json; README.md and original/ are not fetched.
    assert details.needed_files == 7
    assert details.skipped == ("README.md", "original/consolidated.00.pth")
    assert details.architecture == "Qwen3ForCausalLM" and details.max_context == 40960
    assert details.license == "apache-2.0" and details.gated is None
    text = "\n".join(detail_lines(details, "fits: 100,000 KV tokens"))
    assert "7 files, 16.4 GB" in text and "8.19B (BF16)" in text
    assert "context 40,960" in text and "Access     open" in text and "fits: 100,000" in text


@pytest.mark.fault("hub-gated")
def test_a_gated_model_shows_its_metadata_and_how_to_get_access(tmp_path: Path) -> None:
    with hub_server() as hub, pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(tmp_path))
        patch.delenv("HF_TOKEN", raising=False)
        details = HfHub(hub.url).details(GATED)
    assert details.gated == "manual" and details.config is None
    text = "\n".join(detail_lines(details, None))
    assert "gated (manual)" in text and "hf auth login" in text and "HF_TOKEN" in text
    assert "config.json unread" in text


def test_an_unknown_model_says_so() -> None:
    with hub_server() as hub, pytest.raises(BackendUnavailable, match="no such model"):
        HfHub(hub.url).details("nobody/nothing")


def test_a_rate_limited_search_says_it_waits_then_answers() -> None:
    heard: list[str] = []
    with hub_server() as hub:
        hub.rate_limited, hub.retry_after = 1, 1
        started = time.monotonic()
        found = HfHub(hub.url).search(SearchQuery("qwen3"), on_wait=heard.append)
        took = time.monotonic() - started
    assert ids(found)[0] == "Qwen/Qwen3-8B"
    # huggingface_hub waits Retry-After + 1 s; vtui says so while it waits.
    assert took >= 2.0
    assert heard == ["the Hub is rate limiting this machine (HTTP 429); asking again in 2 s "
                     "(retry 1 of 5)"]  # fmt: skip


def test_a_hub_that_keeps_rate_limiting_ends_with_the_fix(tmp_path: Path) -> None:
    with hub_server() as hub:
        hub.rate_limited, hub.retry_after = 100, 0
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "vtui", "search", "qwen3"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert "HTTP 429" in done.stderr and "hf auth login" in done.stderr
    assert "retry 5 of 5" in done.stderr and "Traceback" not in done.stderr


def test_a_search_that_matches_nothing_names_the_filters_to_widen() -> None:
    from vtui.core.model_search import SearchQuery

    assert SearchQuery(text="nosuch").no_match() == (
        "No model matches \u201cnosuch\u201d: try fewer or other words."
    )
    words = SearchQuery(author="meta", quant="AWQ").no_match()
    assert "the author \u201cmeta\u201d (matched exactly" in words and "(AWQ)" in words
    assert "size" not in words
