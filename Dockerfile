# The triton-gateway image: `docker build -t triton-gateway .` (or `podman build`).
#
# Multi-stage: the build stage installs every dependency and compiles the TypeScript; the runtime stage
# gets the compiled build and production dependencies only, runs as a non-root user, and runs node as
# PID 1 so SIGTERM reaches the gateway's own handler and the drain (see README, "Graceful shutdown")
# runs. The gateway starts no child processes, so no init process is needed to reap zombies.
#
# NODE_IMAGE lets a machine without access to Docker Hub build on a local base of the same kind
# (containers/build-images.sh does that here); users keep the default.
ARG NODE_IMAGE=docker.io/library/node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc skips onnxruntime-node's download of CUDA libraries: its CPU build is inside the npm package.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY gateway ./gateway
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 # onnxruntime-node ships prebuilt libraries for every OS and CPU (about 290 MB); keep this platform's.
 && keep="linux/$(node -p process.arch)" \
 && for dir in node_modules/onnxruntime-node/bin/napi-v*/*/*; do \
      case "$dir" in *"/$keep") ;; *) rm -rf "$dir" ;; esac; \
    done \
 && ls node_modules/onnxruntime-node/bin/napi-v*/"$keep"/onnxruntime_binding.node >/dev/null

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production \
    PORT=8080 \
    # An explicit heap, so what the gateway may hold does not depend on how a given Node version reads the
    # container's memory limit, and the pod's limit (k8s/: 512 MiB) keeps room beyond it for buffers.
    # Small young generations keep the resident size down under load (README, Performance: 125-139 MiB
    # peak RSS with 4 MiB semi-spaces against 264-358 MiB with V8's defaults). Raise the old space
    # together with the memory limit.
    NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=4" \
    # glibc's allocator otherwise keeps what a large request body used: its mmap threshold rises to the
    # size of the last large block freed, so later bodies come from arenas that fragment, and every
    # thread may get an arena of its own. Fixed thresholds hand large blocks back to the kernel (README,
    # Performance: 154-158 against 129-136 MiB under load with the largest allowed body every 10 s).
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The example models: with TRITON_GRPC_URL unset the gateway serves them itself (the embedded backend).
COPY model_repository ./model_repository
# Numeric, so Kubernetes' runAsNonRoot can check it; uid 1000 is the node image's own "node" user.
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "dist/gateway/healthcheck.js"]
CMD ["node", "dist/gateway/main.js"]
