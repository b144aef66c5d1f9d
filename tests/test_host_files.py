"""The hosts as the user's files say, read as outside text: a Docker context folder another
tool wrote, and a hand-edited config.toml."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from vtui.backends.hosts.files import MAX_FILE_BYTES, FileHostBook


def _context(docker_config: Path, name: str, body: object) -> None:
    folder = docker_config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    folder.mkdir(parents=True)
    text = body if isinstance(body, str) else json.dumps(body)
    (folder / "meta.json").write_text(text)


@pytest.mark.attack("terminal-escapes")
@pytest.mark.attack("malformed-answers")
@pytest.mark.attack("bounded-memory")
def test_hostile_contexts_become_problem_lines_and_the_good_one_a_host(tmp_path: Path) -> None:
    docker = tmp_path / "docker"
    good = {"Name": "lab", "Endpoints": {"docker": {"Host": "ssh://me@lab"}}}
    _context(docker, "lab", good)
    escape = "x\x1b]52;c;SG9zdGlsZQ==\x07"
    _context(docker, escape, {"Name": escape, "Endpoints": {"docker": {"Host": "ssh://a@b"}}})
    _context(docker, "typed", {"Name": "typed", "Endpoints": {"docker": {"Host": 42}}})
    _context(docker, "broken", "{not json")
    _context(docker, "huge", " " * (MAX_FILE_BYTES + 10))
    _context(
        docker, "opt", {"Name": "opt", "Endpoints": {"docker": {"Host": "ssh://-oProxyCommand=x"}}}
    )
    book = FileHostBook(tmp_path / "config", {"DOCKER_CONFIG": str(docker), "HOME": str(tmp_path)})
    hosts, problems = book.hosts()
    assert [h.name for h in hosts] == ["local", "lab"]
    assert len(problems) == 5
    assert not any("\x1b" in line or "\x07" in line for line in problems)
    assert any("is larger than" in line for line in problems)
    assert any("is not a host name" in line for line in problems)


def test_a_config_toml_that_is_not_toml_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("[hosts.a\ndocker = ")
    hosts, problems = FileHostBook(tmp_path / "config", {"HOME": str(tmp_path)}).hosts()
    assert [h.name for h in hosts] == ["local"]
    assert len(problems) == 1 and "not TOML" in problems[0]
