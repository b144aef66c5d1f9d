"""The real endpoint: a vLLM server's OpenAI-compatible HTTP API through httpx."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
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
from vtui.core.numbers import whole_number
from vtui.core.sse import EventTooLarge, SseDecoder
from vtui.core.terminal_text import visible

CHAT_PATH = "/v1/chat/completions"
# Bounds on what a server may send: one SSE line or event, a /v1/models answer, /metrics.
MAX_SSE_LINE = 1024 * 1024
MAX_MODELS_BYTES = 4 * 1024 * 1024
MAX_METRICS_BYTES = 16 * 1024 * 1024
MAX_HEALTH_BYTES = 64 * 1024
# A whole small answer (/health, /v1/models, /metrics) comes within this, however it trickles.
GET_DEADLINE_S = 15.0
# A reply ends when no event has come for the read timeout (keep-alive comments are not
# events) or when it has run this long in all.
REPLY_DEADLINE_S = 1800.0


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
        try:
            return self._get("/health", MAX_HEALTH_BYTES)[0] == 200
        except EndpointError:
            return False

    def served_models(self) -> list[str]:
        return [card.id for card in self.model_cards()]

    def _get(self, path: str, limit: int) -> tuple[int, bytes]:
        """GET `path`: its status and body, read within `limit` bytes and GET_DEADLINE_S
        seconds in all, so a server that trickles or never ends its body cannot hold vtui."""
        import httpx

        what = f"GET {path}"
        deadline = time.monotonic() + GET_DEADLINE_S
        body = bytearray()
        try:
            with self._http().stream("GET", path) as response:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise EndpointError(
                            ChatFault("malformed", f"{what}: the answer passed {limit:,} bytes")
                        )
                    if time.monotonic() > deadline:
                        raise EndpointError(
                            ChatFault("timeout", f"{what}: no whole answer in {GET_DEADLINE_S} s")
                        )
                return response.status_code, bytes(body)
        except httpx.HTTPError as exc:
            raise EndpointError(_transport_fault(exc, what)) from exc

    def model_cards(self) -> list[ServedModel]:
        status, body = self._get("/v1/models", MAX_MODELS_BYTES)
        if status != 200:
            raise EndpointError(ChatFault("http", _text(body), status))
        try:
            return models_of(json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise EndpointError(
                ChatFault("malformed", f"/v1/models: {type(exc).__name__}: {str(exc)[:200]}")
            ) from None

    def metrics_text(self) -> str | None:
        status, body = self._get("/metrics", MAX_METRICS_BYTES)
        if status == 404:
            return None
        if status != 200:
            raise EndpointError(ChatFault("http", _text(body)[:200], status))
        return _text(body)

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
                async for event in _within(_reply(self._shared, body), self._read_timeout):
                    yield event
                return
            async with self._async_client() as client:
                async for event in _within(_reply(client, body), self._read_timeout):
                    yield event
        except httpx.HTTPError as exc:
            raise EndpointError(_transport_fault(exc, f"POST {CHAT_PATH}")) from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


async def _within(events: AsyncIterator[ChatEvent], idle_s: float) -> AsyncIterator[ChatEvent]:
    """`events`, ended with a timeout fault when none comes for `idle_s` seconds or the
    reply passes REPLY_DEADLINE_S: httpx's read timeout restarts at every byte, so a
    server trickling bytes or sending only keep-alive comments would otherwise hold it.

    One timer, moved at each event and stopped while the caller has the event (its own
    time is not the server's), so the wait costs no task per event."""
    loop = asyncio.get_running_loop()
    end = loop.time() + REPLY_DEADLINE_S
    iterator = aiter(events)
    waited_for = idle_s
    try:
        async with asyncio.timeout(None) as limit:
            while True:
                waited_for = min(idle_s, end - loop.time())
                limit.reschedule(loop.time() + waited_for)
                try:
                    event = await anext(iterator)
                except StopAsyncIteration:
                    return
                limit.reschedule(None)
                yield event
    except TimeoutError:
        why = (
            f"no reply within {REPLY_DEADLINE_S:.0f} s in all"
            if waited_for < idle_s
            else f"nothing came for {idle_s:.0f} s"
        )
        raise EndpointError(ChatFault("timeout", f"POST {CHAT_PATH}: {why}")) from None
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


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


async def _bounded_lines(response: Any) -> AsyncIterator[str]:
    """The body's lines (CR, LF or CRLF ends, as SSE has them), each within MAX_SSE_LINE:
    a line that never ends ends the reply instead of filling memory."""
    pending = bytearray()
    async for chunk in response.aiter_bytes():
        pending += chunk
        while True:
            end = _line_end(pending)
            if end is None:
                break
            stop, after = end
            yield bytes(pending[:stop]).decode("utf-8", errors="replace")
            del pending[:after]
        if len(pending) > MAX_SSE_LINE:
            raise EndpointError(
                ChatFault("malformed", f"one line of the stream passed {MAX_SSE_LINE:,} bytes")
            )
    if pending:
        yield bytes(pending).decode("utf-8", errors="replace")


def _line_end(data: bytearray) -> tuple[int, int] | None:
    """Where the first line of `data` stops and the next begins; None while it is open (a
    CR at the very end may yet be a CRLF)."""
    lf, cr = data.find(b"\n"), data.find(b"\r")
    if cr < 0 or (0 <= lf < cr):
        return None if lf < 0 else (lf, lf + 1)
    if cr + 1 == len(data):
        return None
    return (cr, cr + 2) if data[cr + 1 : cr + 2] == b"\n" else (cr, cr + 1)


async def _stream_events(response: Any) -> AsyncIterator[ChatEvent]:
    decoder = SseDecoder(max_event=MAX_SSE_LINE)
    async for line in _bounded_lines(response):
        try:
            event = decoder.feed(line)
        except EventTooLarge as exc:
            raise EndpointError(ChatFault("malformed", str(exc))) from None
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
        return events_of_completion(json.loads(response.content))
    except MalformedChunk as exc:
        raise EndpointError(ChatFault("malformed", f"chat.completion: {exc}")) from None
    except (ValueError, RecursionError) as exc:
        raise EndpointError(
            ChatFault("malformed", f"chat.completion: {type(exc).__name__}")
        ) from None


def models_of(answer: object) -> list[ServedModel]:
    """The cards of a /v1/models answer; raises ValueError when it is not one."""
    if not isinstance(answer, dict) or not isinstance(answer.get("data", []), list):
        raise ValueError("not an object with a data list")
    cards = []
    for card in answer.get("data", []):
        if not isinstance(card, dict) or not isinstance(card.get("id"), str):
            raise ValueError("a model card without a text id")
        # A model's id is the server's to choose: shown, never obeyed, and bounded.
        cards.append(
            ServedModel(visible(card["id"][:512]), _int_or_none(card.get("max_model_len")))
        )
    return cards


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


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
    if not whole_number(value):
        return None
    return value if 0 < value < 2**40 else None
