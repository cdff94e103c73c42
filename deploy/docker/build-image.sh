#!/usr/bin/env bash
# Build the production image from this checkout (what `make image` runs):
#   1. the base: local/python:3.11 from Debian's packages (build-base.sh), unless BASE names
#      another image (BASE=python:3.11-slim where a registry answers);
#   2. the wheels: the project and every dependency, built on the host with pip, from a clean copy
#      of the tree (no stale build/ directory can slip removed files into the wheel);
#   3. docker build of deploy/Dockerfile in a context of just the wheels and deploy/, with no network.
#
#   deploy/docker/build-image.sh [TAG]      # default wms-ledger:latest
#
# Environment: BASE (default local/python:3.11); PYTHON, the interpreter that builds the wheels
# (default: the first of .venv/bin/python, /usr/bin/python3, python3.11, python3 that has pip and
# the base's exact Python version). The version matters: pip evaluates the dependencies' markers
# for the interpreter it runs under (redis needs async-timeout only below 3.11.3; bookworm has
# 3.11.2), and the image installs offline. Starts dockerd if no engine answers, and leaves it running.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=${1:-wms-ledger:latest}
BASE=${BASE:-local/python:3.11}

if ! docker info >/dev/null 2>&1; then
    command -v dockerd >/dev/null || { echo "no Docker engine: apt-get install docker.io" >&2; exit 1; }
    echo "starting dockerd (log: /var/log/dockerd.log)"
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { tail -n 20 /var/log/dockerd.log >&2; exit 1; }
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src" "$WORK/context/wheels"

seconds() { date +%s.%N; }
report() { awk -v a="$1" -v b="$(seconds)" -v what="$2" 'BEGIN { printf "== %s: %.1f s\n", what, b - a }'; }

start=$(seconds)
if [ "$BASE" = "local/python:3.11" ]; then
    "$ROOT/deploy/docker/build-base.sh" "$BASE"
fi
report "$start" "base ($BASE)"

WANT=$(docker run --rm --network none "$BASE" python3 -c 'import platform; print(platform.python_version())')
if [ -z "${PYTHON:-}" ]; then
    for candidate in "$ROOT/.venv/bin/python" /usr/bin/python3 "$(command -v python3.11 || true)" "$(command -v python3 || true)"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if [ "$("$candidate" -c 'import platform, pip; print(platform.python_version())' 2>/dev/null)" = "$WANT" ]; then
            PYTHON=$candidate
            break
        fi
    done
fi
[ -n "${PYTHON:-}" ] || { echo "no interpreter of Python $WANT (the base's) with pip on this host: set PYTHON" >&2; exit 1; }
echo "wheels built with $PYTHON (Python $WANT, as in $BASE)"

start=$(seconds)
tar -C "$ROOT" \
    --exclude=./.git --exclude=./.venv --exclude=./var --exclude=./build --exclude=./staticfiles \
    --exclude=./bench/results --exclude='*.egg-info' --exclude=__pycache__ --exclude=.hypothesis \
    --exclude=.pytest_cache --exclude=.ruff_cache -c . | tar -C "$WORK/src" -x
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check -w "$WORK/context/wheels" "$WORK/src" 2>"$WORK/pip.log" \
    || { tail -n 30 "$WORK/pip.log" >&2; exit 1; }
report "$start" "wheels ($(ls "$WORK/context/wheels" | wc -l) files)"

start=$(seconds)
mkdir -p "$WORK/context/deploy"
cp -a "$ROOT/deploy/." "$WORK/context/deploy/"
docker build --force-rm --network none --build-arg BASE="$BASE" --build-arg WHEELS=wheels \
    -f "$WORK/context/deploy/Dockerfile" -t "$TAG" "$WORK/context"
docker image prune --force --filter label=wms-ledger.stage=build >/dev/null  # the build stage's leftovers
report "$start" "image build"

docker image ls "$TAG"
