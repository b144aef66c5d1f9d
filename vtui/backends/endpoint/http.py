"""The real endpoint: a vLLM server's OpenAI-compatible HTTP API through httpx."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from vtui.backends.endpoint import EndpointError, ServedModel
from vtui.core.chat_errors import ChatFault
from vtui.core.chat_stream import (
    DONE,
    ChatEvent,
    MalformedChunk,
    StreamedError,
    events_of,
    events_of_completion,
)
from vtui.core.sse import SseDecoder

CHAT_PATH = "/v1/chat/completions"


class HttpEndpoint:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 10.0,
        read_timeout: float = 120.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        # Between two chunks of a reply: a busy server queues a request before its first token.
        self._read_timeout = read_timeout
        self._client: Any = None
        self._shared: Any = None  # the async client of a session, while one is open

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _http(self) -> Any:
        if self._client is None:
            import httpx  # imported here: it costs start-up time

            self._client = httpx.Client(
                base_url=self.base_url, headers=self._headers(), timeout=self._timeout
            )
        return self._client

    def health(self) -> bool:
        import httpx

        try:
            return bool(self._http().get("/health").status_code == 200)
        except httpx.HTTPError:
            return False

    def served_models(self) -> list[str]:
        return [card.id for card in self.model_cards()]

    def model_cards(self) -> list[ServedModel]:
        import httpx

        try:
            response = self._http().get("/v1/models")
        except httpx.HTTPError as exc:
            raise EndpointError(_transport_fault(exc, "GET /v1/models")) from exc
        if response.status_code != 200:
            raise EndpointError(ChatFault("http", response.text, response.status_code))
        try:
            cards = response.json().get("data", [])
            return [ServedModel(str(c["id"]), _int_or_none(c.get("max_model_len"))) for c in cards]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EndpointError(ChatFault("malformed", f"/v1/models: {exc}")) from exc

    def metrics_text(self) -> str | None:
        import httpx

        try:
            response = self._http().get("/metrics")
        except httpx.HTTPError as exc:
            raise EndpointError(_transport_fault(exc, "GET /metrics")) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise EndpointError(ChatFault("http", response.text[:200], response.status_code))
        return str(response.text)

    @contextlib.asynccontextmanager
    async def session(self, connections: int) -> AsyncIterator[None]:
        import httpx

        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with self._async_client(limits) as client:
            self._shared = client
            try:
                yield
            finally:
                self._shared = None

    def _async_client(self, limits: Any = None) -> Any:
        import httpx

        timeout = httpx.Timeout(self._timeout, read=self._read_timeout)
        extra = {"limits": limits} if limits is not None else {}
        return httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers(), timeout=timeout, **extra
        )

    async def chat(self, body: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        import httpx

        # Outside a session, one client per reply: leaving the `async with` (the reply done,
        # or the task cancelled by Esc) closes the connection, which is how vLLM learns to
        # abort the request. In a session, closing the unread stream does the same.
        try:
            if self._shared is not None:
                async for event in _reply(self._shared, body):
                    yield event
                return
            async with self._async_client() as client:
                async for event in _reply(client, body):
                    yield event
        except httpx.HTTPError as exc:
            raise EndpointError(_transport_fault(exc, f"POST {CHAT_PATH}")) from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


async def _reply(client: Any, body: dict[str, Any]) -> AsyncIterator[ChatEvent]:
    async with client.stream("POST", CHAT_PATH, json=body) as response:
        if response.status_code != 200:
            await response.aread()
            raise EndpointError(ChatFault("http", response.text, response.status_code))
        if not body.get("stream"):
            await response.aread()
            for event in _completion_events(response):
                yield event
            return
        async for event in _stream_events(response):
            yield event


async def _stream_events(response: Any) -> AsyncIterator[ChatEvent]:
    decoder = SseDecoder()
    async for line in response.aiter_lines():
        event = decoder.feed(line)
        if event is None:
            continue
        if event.data.strip() == DONE:
            return
        try:
            for item in events_of(event.data):
                yield item
        except MalformedChunk as exc:
            raise EndpointError(ChatFault("malformed", str(exc))) from exc
        except StreamedError as exc:
            raise EndpointError(ChatFault("server", str(exc))) from exc
    # The body ended cleanly but without "[DONE]": the server went away mid-reply.
    raise EndpointError(ChatFault("dropped", "the stream ended before data: [DONE]"))


def _completion_events(response: Any) -> list[ChatEvent]:
    try:
        return events_of_completion(response.json())
    except (ValueError, TypeError, AttributeError) as exc:
        raise EndpointError(ChatFault("malformed", f"chat.completion: {exc}")) from exc


def _transport_fault(exc: Exception, what: str) -> ChatFault:
    import httpx

    detail = f"{what}: {type(exc).__name__}: {exc}" if str(exc) else f"{what}: {type(exc).__name__}"
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return ChatFault("unreachable", detail)
    if isinstance(exc, httpx.TimeoutException):
        return ChatFault("timeout", detail)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return ChatFault("dropped", detail)
    return ChatFault("unreachable", detail)


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None
