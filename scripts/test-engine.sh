#!/usr/bin/env bash
# Makes this machine ready for vtui's engine tests, as root: Debian's docker.io and
# docker-compose installed, dockerd running, and the local image vtui-test/vllm-sim built. Safe to run again: it
# reuses what is there. No registry is reachable, so the base image comes from debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=vtui-test/debian-python3:bookworm
SIM_IMAGE=vtui-test/vllm-sim
SUITE=bookworm

say() { echo "test-engine: $*"; }

if [ "$(id -u)" != 0 ]; then
    say "must run as root (it installs packages and starts dockerd)" >&2
    exit 1
fi

mirror() {
    # The machine's own Debian mirror, from deb822 or one-line sources.
    local uri
    uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
          | grep -v security | head -n1 || true)
    if [ -z "$uri" ]; then
        uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' \
              | grep -v security | head -n1 || true)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
# Compose v1 from Debian: its `config` validates vtui's compose files against the schema.
command -v docker-compose >/dev/null || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

if ! docker info >/dev/null 2>&1; then
    say "starting dockerd"
    mkdir -p /var/log
    nohup dockerd >/var/log/vtui-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        say "dockerd did not come up; its log:" >&2
        tail -n 30 /var/log/vtui-dockerd.log >&2
        exit 1
    fi
fi
say "engine: $(docker version --format '{{.Server.Version}}')"

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "reusing $BASE_IMAGE"
else
    root=$(mktemp -d /tmp/vtui-rootfs.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    say "debootstrap $SUITE (minbase + python3) from $(mirror)"
    debootstrap --variant=minbase --include=python3 "$SUITE" "$root" "$(mirror)" \
        >/tmp/vtui-debootstrap.log 2>&1 || { tail -n 30 /tmp/vtui-debootstrap.log >&2; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
    say "imported $BASE_IMAGE"
fi

# A vLLM image carries huggingface_hub and httpx, which vtui's downloader uses when it runs
# on a remote host; so does the stand-in: the venv's own versions, for the image's Python
# (Debian's 3.11, as here).
SITE=build/sim-site
if [ ! -d "$SITE/huggingface_hub" ]; then
    py=${VTUI_VENV:-.venv}/bin/python
    [ -x "$py" ] || py=python3
    wanted=$("$py" -c 'import importlib.metadata as m
print(" ".join(f"{p}=={m.version(p)}" for p in ("huggingface_hub", "httpx")))' 2>/dev/null \
        || echo "huggingface_hub httpx")
    say "installing $wanted for the simulator image"
    # shellcheck disable=SC2086  # the words are the requirements
    "$py" -m pip install -q --disable-pip-version-check --target "$SITE" $wanted
fi

# Always rebuilt (seconds, layers cached) so the image runs the simulator as checked out.
docker build -t "$SIM_IMAGE" -f images/vllm-sim.Dockerfile . >/tmp/vtui-build.log 2>&1 \
    || { tail -n 30 /tmp/vtui-build.log >&2; exit 1; }
say "built $SIM_IMAGE"
