"""One chat turn's failure, explained the same way for the Chat screen and `vtui chat`:
tokens counted from the server's usage where it gives them, and on a 404 the models the
server does serve, so the advice can name them."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace

from vtui.backends.endpoint import ChatEndpoint, EndpointError
from vtui.core.chat_errors import SCREEN_HINTS, ChatFault, ChatTarget, Explained, Hints, explain
from vtui.core.chat_stream import ReplyRecorder


async def explain_turn(
    endpoint: ChatEndpoint,
    fault: ChatFault,
    target: ChatTarget,
    recorder: ReplyRecorder,
    hints: Hints = SCREEN_HINTS,
) -> Explained:
    served: tuple[str, ...] = target.served_models
    if fault.status == 404:
        with contextlib.suppress(EndpointError):
            served = tuple(await asyncio.to_thread(endpoint.served_models))
    return explain(fault, replace(target, served_models=served), recorder.tokens_so_far, hints)
