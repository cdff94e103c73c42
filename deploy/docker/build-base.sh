#!/usr/bin/env bash
# A local Python 3.11 base image from Debian's packages, for machines where no image registry
# answers (FROM python:3.11-slim cannot be pulled): debootstrap a minimal bookworm with python3,
# its venv module and CA certificates, and `docker import` it. Does nothing if the image exists.
#
#   deploy/docker/build-base.sh [IMAGE]          # default local/python:3.11
#   docker build --build-arg BASE=local/python:3.11 -f deploy/Dockerfile ...
#
# The mirror is the one apt uses here (DEBIAN_MIRROR overrides it). Needs root and a running
# Docker engine; installs debootstrap with apt-get if it is missing. About 40 s.
set -euo pipefail

IMAGE=${1:-local/python:3.11}
SUITE=${SUITE:-bookworm}

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "$IMAGE exists: nothing to do"
    exit 0
fi

# The first Debian archive in apt's sources (deb822 *.sources or one-line *.list), not security.
apt_mirror() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        case "$file" in
            *.sources) awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$file" ;;
            *) sed -e 's/\[[^]]*\]//' "$file" | awk '$1 == "deb" { print $2 }' ;;
        esac
    done | grep -v -i security | grep -E '^https?://.*/debian/?$' | head -n 1
}
MIRROR=${DEBIAN_MIRROR:-$(apt_mirror || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

if ! command -v debootstrap >/dev/null; then
    echo "installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

ROOTFS=$(mktemp -d /var/tmp/wms-base.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT

echo "debootstrap $SUITE from $MIRROR into $ROOTFS"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
    tail -n 40 "$ROOTFS.log" >&2
    rm -f "$ROOTFS.log"
    exit 1
}
rm -f "$ROOTFS.log"

# What a runtime base does not need: apt's lists and caches, manuals, documentation (the
# copyright files stay), programs' translations, debootstrap's leftovers.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
       "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/* "$ROOTFS"/debootstrap
find "$ROOTFS/usr/share/doc" -type f ! -name copyright -delete
find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +  # messages of apt, coreutils...
find "$ROOTFS/usr/share/doc" -type d -empty -delete

tar --numeric-owner -C "$ROOTFS" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$IMAGE" >/dev/null
echo "built $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
