"""What `vtui doctor` asks the Hub (or HF_ENDPOINT's mirror): does it answer, is a token
set (never read out), and can that token read a gated repo the user names."""

from __future__ import annotations

import os

from vtui.backends.hub.hf import DEFAULT_ENDPOINT, _unreachable
from vtui.backends.hub.hub_calls import hub_offline, hub_problem
from vtui.core.doctor import HubFacts
from vtui.core.safe_names import REPO_ID
from vtui.core.terminal_text import visible

ANSWER_TIMEOUT = 8.0


def hub_facts(gated_repo: str | None = None, endpoint: str | None = None) -> HubFacts:
    import httpx
    from huggingface_hub import HfApi, get_token

    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    token_present = bool(get_token())
    reachable, problem = False, ""
    if hub_offline():
        problem = "HF_HUB_OFFLINE is set: vtui and huggingface_hub ask the Hub nothing"
    elif (why := _unreachable(endpoint)) is not None:
        problem = why
    else:
        try:
            answer = httpx.get(
                f"{endpoint}/api/models", params={"limit": 1}, timeout=ANSWER_TIMEOUT
            )
            reachable = answer.status_code == 200 and answer.content[:1] == b"["
            if not reachable:
                problem = f"answered HTTP {answer.status_code}, not a model listing: not a Hub?"
        except httpx.HTTPError as exc:
            problem = f"no answer ({type(exc).__name__})"
    gated_problem: str | None = None
    if gated_repo is not None:
        if not REPO_ID.fullmatch(gated_repo):
            gated_problem = f"{visible(gated_repo[:100])!r} is not a repo id (owner/name)"
        elif not reachable:
            gated_problem = f"not checked: {problem}"
        else:
            try:
                HfApi(endpoint=endpoint).auth_check(gated_repo)
            except Exception as exc:  # huggingface_hub's errors, each said in words
                gated_problem = hub_problem(gated_repo, exc)
    return HubFacts(
        endpoint=visible(endpoint[:200]),
        reachable=reachable,
        problem=visible(problem),
        token_present=token_present,
        gated_repo=None if gated_repo is None else visible(gated_repo[:100]),
        gated_problem=gated_problem,
    )
