"""What vtui promises to survive and to guard (issue #10), each promise kept by marked tests.

A test says which promise it keeps with `@pytest.mark.fault("key")`,
`@pytest.mark.security("key")` or `@pytest.mark.input_check("key")`. At the end of a run
the conftest plugin prints one line per promise with how its tests ended, so a CI log reads
as the hardening report; tests/test_hardening.py fails when a promise has no test or a
marker names a promise that is not here.
"""

from __future__ import annotations

FAULTS: dict[str, str] = {
    "docker-down": "Docker daemon down at start",
    "docker-socket-denied": "Docker socket permission denied",
    "docker-restarted": "Docker daemon restarted while following logs",
    "container-oom": "Container OOM-killed",
    "container-exit": "Container exits non-zero",
    "nvml-missing": "NVML library missing",
    "gpu-lost": "GPU lost mid-session",
    "hub-unreachable": "Hub unreachable",
    "hub-gated": "Gated repo",
    "disk-full": "Disk full mid-download",
    "download-resume": "Download interrupted then resumed, checksum verified",
    "endpoint-down-chat": "Endpoint down mid-chat",
    "malformed-sse": "Malformed SSE",
    "corrupt-profile": "Corrupt profile TOML",
    "ctrl-c-download": "Ctrl-C during download",
    "ctrl-c-remote-download": "Ctrl-C during a download on a remote host, then resumed there",
    "remote-download-link-lost": "The link to a remote host lost mid-download, followed again",
    "ctrl-c-launch": "Ctrl-C during launch",
    "tiny-terminal": "Terminal resized to 40x12",
}

SECURITY: dict[str, str] = {
    "loopback-bind": "Published ports bind 127.0.0.1 unless the profile says otherwise",
    "open-host-caution": "The form cautions when a profile opens the server to the network",
    "api-key-generated": "API keys generated with secrets, stored 0600",
    "api-key-by-env": "API keys reach containers by environment, never in a file or argv",
    "api-key-masked": "API keys are shown masked",
    "hf-token-unseen": "The HF token is never printed, logged, saved or drawn",
    "rendering-injection": "compose / docker run rendering cannot be broken by values (fuzzed)",
    "no-shell": "No shell=True, os.system or os.popen anywhere",
    "trust-remote-code": "trust-remote-code off by default, a caution when on",
    "image-pinned": "The image is pinned by tag, a caution when it is not",
    "atomic-private-files": "Profile, key and config files written atomically with 0600",
    "model-read-only": "Model directories mounted read-only",
}

INPUTS: dict[str, str] = {
    "cli-options": "Every CLI option rejects a bad value with a message that names it",
    "form-fields": "Every form field rejects a bad value with a message beside it",
    "toml-fuzz": "The profile TOML loader on random input raises only ProfileError",
    "log-explainer-fuzz": "The log explainer on random input never raises",
}

# What a hostile Hub mirror, endpoint or container, or a hand-edited file, cannot do (#25).
ATTACKS: dict[str, str] = {
    "hub-traversal": "A Hub listing whose names, blob ids or commit leave the folder is refused",
    "download-whole": "A short, missing, oversize, compressed or 416-looping file is never done",
    "terminal-escapes": "No escape sequence from outside reaches the terminal (CLI and TUI)",
    "malformed-answers": "Broken JSON, wrong types and nesting are one message, never a crash",
    "metric-ranges": "NaN, infinite, negative and out-of-range figures read as not reported",
    "bounded-memory": "Long lines, long logs and endless streams stay within their bounds",
    "deadlines": "A trickling or endless server cannot hold a reply or a request",
    "log-resume": "Following a log resumes at its exact line: none twice, none lost",
    "profile-names": "Names from files are matched whole: a trailing newline is refused",
    "secret-flags": "--hf-token and other secret flags never land in files, argv or records",
    "key-files": "Key files that are links, foreign or open to others are refused",
}

KINDS: dict[str, dict[str, str]] = {
    "fault": FAULTS,
    "security": SECURITY,
    "input_check": INPUTS,
    "attack": ATTACKS,
}
TITLES = {
    "fault": "Faults",
    "security": "Security properties",
    "input_check": "Input checks",
    "attack": "Hostile input (#25)",
}
