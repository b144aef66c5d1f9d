#!/usr/bin/env bash
# Installs vtui the way README.md tells a user to (pipx, into a throwaway PIPX_HOME, with the
# distribution's own Python, which PEP 668 marks externally managed) and runs the installed
# command: `vtui --version` and the demo's headless screenshots. It proves the README's
# first command works on this machine without touching the system Python.
set -euo pipefail
cd "$(dirname "$0")/.."

README_COMMAND='pipx install . && vtui --demo'
if ! grep -qxF "$README_COMMAND" README.md; then
    echo "install-check: README.md no longer says '$README_COMMAND'; update this script with it" >&2
    exit 1
fi

if ! command -v pipx > /dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
        echo "install-check: installing Debian's pipx"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q pipx > /dev/null
    else
        echo "install-check: pipx is missing and this is not root on Debian" >&2
        # Under CI the README's way must be proved, not skipped.
        [ "${CI:-}" = true ] && exit 1
        exit 0
    fi
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PIPX_HOME="$WORK/pipx" PIPX_BIN_DIR="$WORK/bin"
echo "install-check: pipx install . (with $(pipx --version 2>/dev/null | head -1 || echo pipx))"
pipx install --force . > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; exit 1; }
VTUI="$WORK/bin/vtui"
"$VTUI" --version
# The demo keeps its world under TMPDIR: a fresh one, so this run meets what a new user meets.
mkdir -p "$WORK/tmp"
TMPDIR="$WORK/tmp" "$VTUI" --headless --demo --screenshots "$WORK/shots" > "$WORK/shots.log"
for screen in models launch server gpu chat; do
    if [ ! -s "$WORK/shots/$screen.svg" ]; then
        echo "install-check: the installed vtui wrote no $screen screenshot" >&2
        exit 1
    fi
done
echo "install-check: the installed vtui ran and drew $(wc -l < "$WORK/shots.log") screens"
