"""Reading a vLLM command line back: what a container was started with, whoever wrote it."""

from __future__ import annotations


def flag_value(command: tuple[str, ...], flag: str) -> str | None:
    """The value given to `flag`, as `--flag value` or `--flag=value`; None when absent."""
    for i, token in enumerate(command):
        if token == flag and i + 1 < len(command):
            return command[i + 1]
        if token.startswith(f"{flag}="):
            return token.split("=", 1)[1]
    return None


def flag_number(command: tuple[str, ...], flag: str, default: float) -> float:
    """A numeric flag's value; `default` when it is absent or not a number."""
    value = flag_value(command, flag)
    try:
        return default if value is None else float(value)
    except ValueError:
        return default


def served_model(command: tuple[str, ...]) -> str | None:
    """The model a vLLM command line serves: its served name, else --model, else the first
    positional argument (`vllm serve MODEL`)."""
    for flag in ("--served-model-name", "--model"):
        value = flag_value(command, flag)
        if value is not None:
            return value
    if command and not command[0].startswith("-"):
        return command[0]
    return None


# The one secret list: vLLM flags whose value is a secret, and the environment variables
# that carry one. None is ever written into a profile, a rendered file or a record.
SECRET_FLAGS = ("--api-key", "--hf-token")
SECRET_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "VLLM_API_KEY")
HIDDEN = "***"
SECRET_ADVICE = (
    "a secret does not belong in a profile: export HF_TOKEN in your shell, and vtui passes "
    "it to the container by name (vtui makes the API key itself)"
)


def without_secrets(command: tuple[str, ...]) -> tuple[str, ...]:
    """The command line with the values of key and token flags hidden, for saving or
    showing: a container not started by vtui may carry its key on the command line."""
    out: list[str] = []
    hide_next = False
    for token in command:
        if hide_next:
            out.append(HIDDEN)
            hide_next = False
        elif token in SECRET_FLAGS:
            out.append(token)
            hide_next = True
        elif token.split("=", 1)[0] in SECRET_FLAGS and "=" in token:
            out.append(f"{token.split('=', 1)[0]}={HIDDEN}")
        else:
            out.append(token)
    return tuple(out)
