#!/usr/bin/env bash
# Builds the project's two images with podman or Docker:
#   GATEWAY_IMAGE     (localhost/triton-gateway:local) the gateway, from the Dockerfile at the top
#   TRITON_CPU_IMAGE  (localhost/triton-cpu:2.51.0) a CPU Triton serving model_repository/ (containers/triton-cpu/)
# Layer caches make a second run take seconds; the test suite (test/container/) and .ci/run call it.
#
# Settings (environment):
#   CONTAINER_ENGINE  podman or docker (default: podman when installed, else docker)
#   LOCAL_BASES       1: build the base images (node:24-slim, python:3.11-slim-bookworm) here from
#                     Debian packages, for machines that cannot pull from Docker Hub; 0: never;
#                     unset: only when pulling them fails.
#   DEBIAN_MIRROR     for LOCAL_BASES (default: the first Debian mirror in this machine's apt sources)
set -euo pipefail
cd "$(dirname "$0")/.."

GATEWAY_IMAGE=${GATEWAY_IMAGE:-localhost/triton-gateway:local}
TRITON_CPU_IMAGE=${TRITON_CPU_IMAGE:-localhost/triton-cpu:2.51.0}
NODE_BASE=node:24-slim
PYTHON_BASE=python:3.11-slim-bookworm
LOCAL_DEBIAN=localhost/triton-gateway-base/debian:bookworm
LOCAL_NODE=localhost/triton-gateway-base/node:24-slim

say() { printf '[build-images] %s\n' "$*" >&2; }

engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v podman >/dev/null 2>&1; then engine=podman; else engine=docker; fi
fi
command -v "$engine" >/dev/null 2>&1 || { say "$engine is not installed (set CONTAINER_ENGINE, or see .ci/run for podman)"; exit 1; }

exists() { "$engine" image inspect "$1" >/dev/null 2>&1; }

# The Debian mirror this machine's apt uses (deb822 `URIs:` or one-line `deb` entries; comments skipped).
apt_mirror() {
  {
    grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{ print $2 }'
    grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }'
  } | grep -E '/debian/?$' | head -n 1 | grep . || echo http://deb.debian.org/debian
}

# A machine whose TLS goes through an inspecting proxy trusts that proxy's CA in its system bundle; the
# build containers get the same trust (npm and pip read it through these mounted files). podman only:
# `docker build` has no build-time mounts, and Docker users reach the registries directly.
build_trust=()
if [ "$engine" = podman ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  trust_dir=$(mktemp -d)
  trap 'rm -rf "$trust_dir"' EXIT
  cp /etc/ssl/certs/ca-certificates.crt "$trust_dir/ca.crt"
  printf 'cafile=/run/host-trust/ca.crt\n' >"$trust_dir/npmrc"
  printf '[global]\ncert = /run/host-trust/ca.crt\n' >"$trust_dir/pip.conf"
  build_trust=(-v "$trust_dir:/run/host-trust:ro" -v "$trust_dir/npmrc:/root/.npmrc:ro" -v "$trust_dir/pip.conf:/etc/pip.conf:ro")
fi

local_bases=${LOCAL_BASES:-}
if [ -z "$local_bases" ]; then
  local_bases=0
  for base in "$NODE_BASE" "$PYTHON_BASE"; do
    exists "$base" || "$engine" pull -q "$base" >/dev/null 2>&1 || { local_bases=1; say "cannot pull $base: building local base images"; break; }
  done
fi

if [ "$local_bases" = 1 ]; then
  if ! exists "$LOCAL_DEBIAN"; then
    command -v debootstrap >/dev/null 2>&1 || { say "LOCAL_BASES needs debootstrap (apt-get install debootstrap)"; exit 1; }
    mirror=${DEBIAN_MIRROR:-$(apt_mirror)}
    rootfs=$(mktemp -d)
    say "debootstrap bookworm from $mirror (about a minute)"
    started=$(date +%s)
    # python3 + libpython3.11: what python:3.11-slim-bookworm offers the Triton image (its backend stub
    # links libpython); ca-certificates for TLS; passwd for useradd.
    if ! debootstrap --variant=minbase --include=python3,python3-venv,libpython3.11,ca-certificates,passwd \
      bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
      tail -n 30 "$rootfs.log" >&2
      rm -rf "$rootfs" "$rootfs.log"
      say "debootstrap failed (log above); DEBIAN_MIRROR picks another mirror"
      exit 1
    fi
    rm -f "$rootfs.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | "$engine" import -q - "$LOCAL_DEBIAN" >/dev/null
    rm -rf "$rootfs"
    say "$LOCAL_DEBIAN built in $(( $(date +%s) - started )) s"
  fi
  node_bin=node_modules/node/bin/node
  node_version=$("$node_bin" --version 2>/dev/null || true)
  if [ -z "$node_version" ]; then say "LOCAL_BASES needs Node 24 from npm ci ($node_bin)"; exit 1; fi
  if [ "$("$engine" image inspect --format '{{ index .Config.Labels "node.version" }}' "$LOCAL_NODE" 2>/dev/null || true)" != "$node_version" ]; then
    # Like node:24-slim: node and npm under /usr/local, a "node" user with uid 1000.
    npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
    context=$(mktemp -d)
    cp "$node_bin" "$context/node"
    cp -r "$npm_dir" "$context/npm"
    cat >"$context/Containerfile" <<EOF
FROM $LOCAL_DEBIAN
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
LABEL node.version=$node_version
EOF
    say "building $LOCAL_NODE (node $node_version, npm $(npm --version))"
    "$engine" build -q -t "$LOCAL_NODE" "$context" >/dev/null
    rm -rf "$context"
  fi
  NODE_BASE=$LOCAL_NODE
  PYTHON_BASE=$LOCAL_DEBIAN
fi

extra=()
[ "$engine" = podman ] && extra=(--format docker) # HEALTHCHECK is a Docker image field
started=$(date +%s)
say "building $GATEWAY_IMAGE on $NODE_BASE"
"$engine" build "${extra[@]}" "${build_trust[@]}" --build-arg "NODE_IMAGE=$NODE_BASE" -t "$GATEWAY_IMAGE" -f Dockerfile . >&2
say "building $TRITON_CPU_IMAGE on $PYTHON_BASE"
"$engine" build "${extra[@]}" "${build_trust[@]}" --build-arg "PYTHON_IMAGE=$PYTHON_BASE" -t "$TRITON_CPU_IMAGE" containers/triton-cpu >&2
say "images ready in $(( $(date +%s) - started )) s: $GATEWAY_IMAGE $TRITON_CPU_IMAGE"
