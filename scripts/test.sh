#!/usr/bin/env bash
# vtui's whole check, from a fresh machine: a virtual environment with the test extras,
# the Docker engine and the simulator image (as root), a second engine behind an sshd on
# 127.0.0.1 for the remote-host tests, then lint, types and every test.
# Under CI=true the engine tests must run: a missing engine fails them instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VTUI_VENV:-.venv}
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    echo "test: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "test: installing vtui with its test extras"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'

if [ "$(id -u)" = 0 ]; then
    scripts/test-engine.sh
    scripts/test-remote.sh
else
    echo "test: not root, so the Docker engine is not set up here; engine tests may skip"
fi

echo "test: install the README's way"
scripts/install-check.sh

echo "test: ruff"
"$VENV/bin/ruff" check vtui tests bench scripts
"$VENV/bin/ruff" format --check vtui tests bench scripts
echo "test: mypy"
"$VENV/bin/mypy"
echo "test: pytest"
"$VENV/bin/pytest" -v -rs "$@"
