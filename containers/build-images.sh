#!/usr/bin/env bash
# Builds the project's two images with podman or Docker:
#   GATEWAY_IMAGE     (localhost/triton-gateway:local) the gateway, from the Dockerfile at the top
#   TRITON_CPU_IMAGE  (localhost/triton-cpu:2.51.0) a CPU Triton serving model_repository/ (containers/triton-cpu/)
# Layer caches make a second run take seconds; the test suite (test/container/) and .ci/run call it.
#
# Settings (environment):
#   CONTAINER_ENGINE  podman or docker (default: podman when installed, else docker)
#   LOCAL_BASES       1: build the base images (node:24-slim, python:3.11-slim-bookworm) here from
#                     Debian packages (debootstrap, as root), for machines that cannot pull from Docker
#                     Hub; 0: never; unset: use what is already here, else try to pull, else build them.
#   DEBIAN_MIRROR     for LOCAL_BASES (default: the Debian mirror of this machine's apt sources)
set -euo pipefail
cd "$(dirname "$0")/.."

GATEWAY_IMAGE=${GATEWAY_IMAGE:-localhost/triton-gateway:local}
TRITON_CPU_IMAGE=${TRITON_CPU_IMAGE:-localhost/triton-cpu:2.51.0}
# Fully qualified: podman pulls no short name unless the machine names a search registry.
NODE_BASE=docker.io/library/node:24-slim
PYTHON_BASE=docker.io/library/python:3.11-slim-bookworm
LOCAL_DEBIAN=localhost/triton-gateway-base/debian:bookworm
LOCAL_NODE=localhost/triton-gateway-base/node:24-slim

say() { printf '[build-images] %s\n' "$*" >&2; }

engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v podman >/dev/null 2>&1; then engine=podman; else engine=docker; fi
fi
command -v "$engine" >/dev/null 2>&1 || { say "$engine is not installed (set CONTAINER_ENGINE, or see .ci/run for podman)"; exit 1; }

exists() { "$engine" image inspect "$1" >/dev/null 2>&1; }

# Every temporary folder of this run goes when it ends, however it ends.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The Debian mirror this machine's apt uses (deb822 `URIs:` or one-line `deb` entries; comments skipped).
apt_mirror() {
  local found
  found=$({
    grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{ print $2 }'
    grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }'
  } | grep -E '^https?://[^ ]+/debian/?$' | awk 'NR == 1') || true
  echo "${found:-http://deb.debian.org/debian}"
}

# A machine whose TLS goes through an inspecting proxy trusts that proxy's CA in its system bundle; the
# build containers get the same trust (npm and pip read it through these mounted files). podman only:
# `docker build` has no build-time mounts, and Docker users reach the registries directly.
build_options=()
if [ "$engine" = podman ]; then
  build_options+=(--format docker) # HEALTHCHECK is a Docker image field; podman's default OCI format drops it
  if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
    trust="$scratch/trust"
    mkdir "$trust"
    cp /etc/ssl/certs/ca-certificates.crt "$trust/ca.crt"
    printf 'cafile=/run/host-trust/ca.crt\n' >"$trust/npmrc"
    printf '[global]\ncert = /run/host-trust/ca.crt\n' >"$trust/pip.conf"
    build_options+=(-v "$trust:/run/host-trust:ro" -v "$trust/npmrc:/root/.npmrc:ro" -v "$trust/pip.conf:/etc/pip.conf:ro")
  fi
fi

local_bases=${LOCAL_BASES:-}
if [ -z "$local_bases" ]; then
  if exists "$NODE_BASE" && exists "$PYTHON_BASE"; then
    local_bases=0
  elif exists "$LOCAL_DEBIAN" && exists "$LOCAL_NODE"; then
    local_bases=1
  else
    local_bases=0
    for base in "$NODE_BASE" "$PYTHON_BASE"; do
      exists "$base" && continue
      if ! pull_error=$("$engine" pull -q "$base" 2>&1 >/dev/null); then
        local_bases=1
        say "cannot pull $base (${pull_error##*$'\n'}): building local base images (LOCAL_BASES=0 refuses)"
        break
      fi
    done
  fi
fi

if [ "$local_bases" = 1 ]; then
  if ! exists "$LOCAL_DEBIAN"; then
    command -v debootstrap >/dev/null 2>&1 || { say "LOCAL_BASES needs debootstrap (apt-get install debootstrap)"; exit 1; }
    [ "$(id -u)" -eq 0 ] || { say "LOCAL_BASES needs root for debootstrap (or pull $NODE_BASE and $PYTHON_BASE)"; exit 1; }
    mirror=${DEBIAN_MIRROR:-$(apt_mirror)}
    rootfs="$scratch/rootfs"
    say "debootstrap bookworm from $mirror (about a minute)"
    started=$(date +%s)
    # python3 + libpython3.11: what python:3.11-slim-bookworm offers the Triton image (its backend stub
    # links libpython); ca-certificates for TLS; passwd for useradd.
    if ! debootstrap --variant=minbase --include=python3,python3-venv,libpython3.11,ca-certificates,passwd \
      bookworm "$rootfs" "$mirror" >"$scratch/debootstrap.log" 2>&1; then
      tail -n 30 "$scratch/debootstrap.log" >&2
      say "debootstrap failed (log above); DEBIAN_MIRROR picks another mirror"
      exit 1
    fi
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
    context="$scratch/node-base"
    mkdir "$context"
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
    "$engine" build -q -f "$context/Containerfile" -t "$LOCAL_NODE" "$context" >/dev/null
  fi
  NODE_BASE=$LOCAL_NODE
  PYTHON_BASE=$LOCAL_DEBIAN
fi

started=$(date +%s)
# ${a[@]+"${a[@]}"}: an empty array under `set -u` is an error in bash before 4.4 (macOS ships 3.2).
say "building $GATEWAY_IMAGE on $NODE_BASE"
"$engine" build ${build_options[@]+"${build_options[@]}"} --build-arg "NODE_IMAGE=$NODE_BASE" -t "$GATEWAY_IMAGE" -f Dockerfile . >&2
say "building $TRITON_CPU_IMAGE on $PYTHON_BASE"
"$engine" build ${build_options[@]+"${build_options[@]}"} --build-arg "PYTHON_IMAGE=$PYTHON_BASE" -t "$TRITON_CPU_IMAGE" \
  -f containers/triton-cpu/Containerfile containers/triton-cpu >&2
say "images ready in $(( $(date +%s) - started )) s: $GATEWAY_IMAGE $TRITON_CPU_IMAGE"
