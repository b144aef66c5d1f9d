"""`vtui chat`: talk to the running model, in the Chat screen or (--prompt) once, on stdout."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any

from vtui.cli.arg_types import sampling
from vtui.cli.common import add_target_arguments, fail, given_endpoint, interactive_problem
from vtui.core.terminal_text import visible

if TYPE_CHECKING:
    from vtui.backends.endpoint import ChatEndpoint, GivenEndpoint
    from vtui.backends.registry import Backends
    from vtui.core.chat_errors import ChatTarget


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
    chat.set_defaults(run=run)
    add_target_arguments(chat)
    chat.add_argument("--prompt", help="send this, print the reply, exit")
    chat.add_argument("--system", default="", help="system prompt")
    chat.add_argument("--max-tokens", type=int, metavar="N", help="longest reply, in tokens")
    chat.add_argument("--temperature", type=sampling("temperature"), metavar="T", help="0 to 2")
    chat.add_argument("--top-p", type=sampling("top_p"), metavar="P", help="above 0, up to 1")


def run(args: argparse.Namespace, backends: Backends) -> int:
    if args.max_tokens is not None and args.max_tokens < 1:
        return fail("--max-tokens must be 1 or more")
    given = given_endpoint(args)
    if isinstance(given, str):
        return fail(given)
    if args.prompt is None:
        return _open_screen(args, backends, given)
    from vtui.services.targets import NoTarget

    try:
        endpoint, target = _resolve(args, backends, given)
    except NoTarget as exc:
        return fail(exc)
    try:
        return asyncio.run(_reply(args, endpoint, target))
    except KeyboardInterrupt:
        print("\nvtui: stopped", file=sys.stderr)
        return 130


def _open_screen(args: argparse.Namespace, backends: Backends, given: GivenEndpoint | None) -> int:
    from vtui.ui.app import VtuiApp

    problem = interactive_problem()
    if problem:
        return fail(problem)
    VtuiApp(backends, gpu_interval=args.gpu_interval, given_endpoint=given, start_mode="chat").run()
    return 0


def _resolve(
    args: argparse.Namespace, backends: Backends, given: GivenEndpoint | None
) -> tuple[ChatEndpoint, ChatTarget]:
    from vtui.backends.registry import endpoint_at
    from vtui.core.chat_errors import ChatTarget
    from vtui.services.targets import deployment_for, first_model

    if given is not None:
        endpoint = endpoint_at(given.url, given.api_key)
        model = given.model or first_model(endpoint, given.key_source)
        return endpoint, ChatTarget(given.url, model, api_key_source=given.key_source)
    d = deployment_for(backends, args.name)
    assert d.base_url is not None
    return backends.endpoint_for(d), ChatTarget(
        d.base_url, args.model or d.model, str(d.state), d.exit_code
    )


THOUGHT_ON_STDOUT = (
    "vtui: the text above was the model's reasoning: it ended with </think>, its <think> was\n"
    "in the chat template (serve it with --reasoning-parser to get the two apart). The answer:"
)


async def _reply(args: argparse.Namespace, endpoint: ChatEndpoint, target: ChatTarget) -> int:
    from vtui.backends.endpoint import EndpointError
    from vtui.core.chat import ChatTurn, Conversation, SamplingSettings
    from vtui.core.chat_errors import CLI_HINTS
    from vtui.core.chat_stream import AnswerDelta, AnswerWasThought, ReplyRecorder
    from vtui.services.chat_turn import explain_turn

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
        said = await explain_turn(endpoint, exc.fault, target, recorder, CLI_HINTS)
        sys.stdout.write("\n" if recorder.answer else "")
        return fail(f"{said.title} {said.advice}")
    for piece in recorder.end():
        out = sys.stdout if isinstance(piece, AnswerDelta) else sys.stderr
        out.write(visible(piece.text, newlines=True))
    sys.stdout.write("\n")
    sys.stdout.flush()
    print(recorder.stats().line(), file=sys.stderr)
    return 0
