"""The real endpoint: a vLLM server's OpenAI-compatible HTTP API through httpx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from vtui.backends.endpoint import EndpointError
from vtui.core.records import ChatMessage, ChatUsage


class HttpEndpoint:
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._client: Any = None

    def _http(self) -> Any:
        if self._client is None:
            import httpx  # imported here: it costs start-up time

            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            self._client = httpx.Client(
                base_url=self.base_url,
                headers=headers,
                timeout=httpx.Timeout(self._timeout, read=120.0),
            )
        return self._client

    def _fail(self, what: str, exc: Exception) -> EndpointError:
        return EndpointError(f"{what} at {self.base_url}: {type(exc).__name__}: {exc}")

    def health(self) -> bool:
        import httpx

        try:
            return bool(self._http().get("/health").status_code == 200)
        except httpx.HTTPError:
            return False

    def served_models(self) -> list[str]:
        import httpx

        try:
            response = self._http().get("/v1/models")
        except httpx.HTTPError as exc:
            raise self._fail("GET /v1/models", exc) from exc
        _raise_for_status(response)
        return [str(m["id"]) for m in response.json().get("data", [])]

    def stream_chat(
        self, model: str, messages: list[ChatMessage], max_tokens: int | None = None
    ) -> Iterator[str | ChatUsage]:
        import httpx

        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        try:
            with self._http().stream("POST", "/v1/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    _raise_for_status(response)
                for line in response.iter_lines():
                    yield from _parse_event(line)
        except httpx.HTTPError as exc:
            raise self._fail("POST /v1/chat/completions", exc) from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _parse_event(line: str) -> Iterator[str | ChatUsage]:
    if not line.startswith("data:"):
        return
    data = line[5:].strip()
    if data == "[DONE]":
        return
    event = json.loads(data)
    for choice in event.get("choices") or []:
        piece = (choice.get("delta") or {}).get("content")
        if piece:
            yield piece
    usage = event.get("usage")
    if usage:
        yield ChatUsage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))


def _raise_for_status(response: Any) -> None:
    if response.status_code == 200:
        return
    if response.status_code == 401:
        raise EndpointError("401 Unauthorized: the server wants a different API key")
    try:
        detail = response.json()
    except ValueError:
        detail = response.text[:200]
    raise EndpointError(f"HTTP {response.status_code}: {detail}")
