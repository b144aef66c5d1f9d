"""`vtui chat`: talk to the running model, in the Chat screen or (--prompt) once, on stdout."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from vtui.cli.arg_types import sampling
from vtui.core.terminal_text import visible

if TYPE_CHECKING:
    from vtui.backends.endpoint import ChatEndpoint, GivenEndpoint
    from vtui.backends.registry import Backends
    from vtui.core.chat_errors import ChatTarget
    from vtui.core.records import Deployment


def add_command(commands: Any) -> None:
    chat = commands.add_parser(
        "chat",
        help="talk to the running model (Chat screen, or --prompt for one reply)",
        description="Talk to vLLM's OpenAI-compatible endpoint: by default the running vLLM\n"
        "container here (its address, API key and served model name), or any server\n"
        "with --endpoint. Without --prompt, opens vtui on the Chat screen. With --prompt,\n"
        "streams the reply to stdout, the reasoning and the figures (time to first token,\n"
        "tokens/s, tokens used) to stderr, and exits 1 when the request fails.",
        epilog="examples:\n"
        "  vtui chat\n"
        "  vtui chat --prompt 'Say hi in five words'\n"
        "  vtui chat --endpoint http://10.0.0.5:8000 --api-key-env VLLM_API_KEY \\\n"
        "      --prompt 'What is PagedAttention?' --max-tokens 200 > answer.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_target_arguments(chat)
    chat.add_argument("--prompt", help="send this, print the reply, exit")
    chat.add_argument("--system", default="", help="system prompt")
    chat.add_argument("--max-tokens", type=int, metavar="N", help="longest reply, in tokens")
    chat.add_argument("--temperature", type=sampling("temperature"), metavar="T", help="0 to 2")
    chat.add_argument("--top-p", type=sampling("top_p"), metavar="P", help="above 0, up to 1")


def add_target_arguments(parser: Any) -> None:
    """Which server a command talks to: a vLLM container here, or any --endpoint."""
    parser.add_argument("--endpoint", metavar="URL", help="an OpenAI-compatible server's base URL")
    parser.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="the environment variable holding the server's API key (never printed)",
    )
    parser.add_argument("--name", help="which vLLM container here (default: the running one)")
    parser.add_argument("--model", help="served model name (default: the server's own)")


def _fail(message: str) -> int:
    print(f"vtui: error: {visible(message, newlines=True)}", file=sys.stderr)
    return 1


def given_endpoint(args: argparse.Namespace) -> GivenEndpoint | str | None:
    """The endpoint named by --endpoint (None: none named), or what is wrong with it."""
    from vtui.backends.endpoint import GivenEndpoint

    if args.endpoint is None:
        if args.api_key_env:
            return "--api-key-env goes with --endpoint (a vtui deployment's key is known)"
        return None
    if not args.endpoint.startswith(("http://", "https://")):
        return f"--endpoint {args.endpoint}: give a URL, as http://127.0.0.1:8000"
    key = None
    source = "no API key"
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            return f"${args.api_key_env} is not set (--api-key-env names the variable)"
        source = f"${args.api_key_env}"
    url = args.endpoint.rstrip("/").removesuffix("/v1")
    return GivenEndpoint(url, key, source, args.model)


def main(args: argparse.Namespace, backends: Backends) -> int:
    if args.max_tokens is not None and args.max_tokens < 1:
        return _fail("--max-tokens must be 1 or more")
    given = given_endpoint(args)
    if isinstance(given, str):
        return _fail(given)
    if args.prompt is None:
        return _open_screen(args, backends, given)
    try:
        endpoint, target = _resolve(args, backends, given)
    except LookupError as exc:
        return _fail(str(exc))
    try:
        return asyncio.run(_reply(args, endpoint, target))
    except KeyboardInterrupt:
        print("\nvtui: stopped", file=sys.stderr)
        return 130


def _open_screen(args: argparse.Namespace, backends: Backends, given: GivenEndpoint | None) -> int:
    from vtui.cli.main import interactive_problem
    from vtui.ui.app import VtuiApp

    problem = interactive_problem()
    if problem:
        return _fail(problem)
    VtuiApp(backends, gpu_interval=args.gpu_interval, given_endpoint=given, start_mode="chat").run()
    return 0


def _resolve(
    args: argparse.Namespace, backends: Backends, given: GivenEndpoint | None
) -> tuple[ChatEndpoint, ChatTarget]:
    from vtui.backends.registry import endpoint_at
    from vtui.core.chat_errors import ChatTarget

    if given is not None:
        endpoint = endpoint_at(given.url, given.api_key)
        model = given.model or first_model(endpoint, given.key_source)
        return endpoint, ChatTarget(given.url, model, api_key_source=given.key_source)
    d = deployment_named(args, backends)
    assert d.base_url is not None
    return backends.endpoint_for(d), ChatTarget(
        d.base_url, args.model or d.model, str(d.state), d.exit_code
    )


def deployment_named(
    args: argparse.Namespace, backends: Backends, *, running: bool = False
) -> Deployment:
    """The container --name names, else the active one, with a published port (and
    running, when asked). Raises LookupError that says what to do instead."""
    from vtui.cli.deploy import find
    from vtui.core.deployments import active_deployment
    from vtui.core.errors import BackendUnavailable

    try:
        deployments = backends.engine.list_deployments()
    except BackendUnavailable as exc:
        raise LookupError(f"{exc.reason}; or pass --endpoint URL") from exc
    d = find(deployments, args.name) if args.name else active_deployment(deployments)
    if d is None or d.base_url is None or (running and not d.live):
        which = f"called {args.name!r} " if args.name else ""
        state = "running " if running else ""
        raise LookupError(
            f"no {state}vLLM container {which}with a published port here (see `vtui ps`); "
            "start one with `vtui up PROFILE`, or pass --endpoint URL"
        )
    return d


def first_model(endpoint: ChatEndpoint, key_source: str = "no API key") -> str:
    """The first model the server lists. Its refusal is explained as a chat's would be: a
    wrong key (401) says so, not "cannot list the models"."""
    from vtui.backends.endpoint import EndpointError
    from vtui.core.chat_errors import CLI_HINTS, ChatTarget, explain

    try:
        models = endpoint.served_models()
    except EndpointError as exc:
        target = ChatTarget(endpoint.base_url, "", api_key_source=key_source)
        said = explain(exc.fault, target, hints=CLI_HINTS)
        raise LookupError(f"{said.title} {said.advice}") from exc
    if not models:
        raise LookupError(f"{endpoint.base_url}/v1/models lists no model")
    return models[0]


THOUGHT_ON_STDOUT = (
    "vtui: the text above was the model's reasoning: it ended with </think>, its <think> was\n"
    "in the chat template (serve it with --reasoning-parser to get the two apart). The answer:"
)


async def _reply(args: argparse.Namespace, endpoint: ChatEndpoint, target: ChatTarget) -> int:
    from dataclasses import replace

    from vtui.backends.endpoint import EndpointError
    from vtui.core.chat import ChatTurn, Conversation, SamplingSettings
    from vtui.core.chat_errors import CLI_HINTS, explain
    from vtui.core.chat_stream import AnswerDelta, AnswerWasThought, ReplyRecorder

    conversation = Conversation(
        system=args.system,
        turns=[ChatTurn("user", args.prompt)],
        settings=SamplingSettings(args.temperature, args.top_p, args.max_tokens),
    )
    recorder = ReplyRecorder(time.monotonic)
    thinking = False
    try:
        async for event in endpoint.chat(conversation.request_body(target.model)):
            for piece in recorder.add(event):
                if isinstance(piece, AnswerDelta):
                    if thinking:
                        sys.stderr.write("\n")
                        thinking = False
                    sys.stdout.write(visible(piece.text, newlines=True))
                    sys.stdout.flush()
                elif isinstance(piece, AnswerWasThought):
                    # Already on stdout, which may be a file: it cannot be taken back.
                    sys.stdout.write("\n")
                    sys.stdout.flush()
                    print(THOUGHT_ON_STDOUT, file=sys.stderr)
                else:
                    if not thinking:
                        sys.stderr.write("thinking: ")
                        thinking = True
                    sys.stderr.write(visible(piece.text, newlines=True))
                    sys.stderr.flush()
    except EndpointError as exc:
        served: tuple[str, ...] = ()
        if exc.fault.status == 404:
            with contextlib.suppress(EndpointError):
                served = tuple(endpoint.served_models())
        said = explain(
            exc.fault, replace(target, served_models=served), len(recorder.answer), CLI_HINTS
        )
        sys.stdout.write("\n" if recorder.answer else "")
        return _fail(f"{said.title} {said.advice}")
    for piece in recorder.end():
        out = sys.stdout if isinstance(piece, AnswerDelta) else sys.stderr
        out.write(visible(piece.text, newlines=True))
    sys.stdout.write("\n")
    sys.stdout.flush()
    print(recorder.stats().line(), file=sys.stderr)
    return 0
