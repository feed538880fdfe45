# syntax=docker/dockerfile:1
# converge: one long-lived Fargate task. Build (the revision shows in `converge --version`):
#   docker build --build-arg CONVERGE_REVISION="$(git rev-parse HEAD)" -t converge .
#
# `npm run image:check` (scripts/image-check.ts) assembles the runtime stage below without a Docker
# engine and runs it. It reads this file: the stages, their WORKDIR, COPY and RUN lines, and the
# runtime stage's ARG, ENV, USER, HEALTHCHECK, ENTRYPOINT and CMD. It refuses a RUN it does not
# know how to reproduce and anything else it cannot follow, so teach it before adding either.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY reconcilers ./reconcilers
COPY desired-state ./desired-state
COPY scripts ./scripts
COPY bench ./bench
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# Only what `converge` runs: not the compiled demo, seed, emulator and bench scripts.
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/reconcilers ./dist/reconcilers
COPY --from=build /app/dist/desired-state ./dist/desired-state
COPY package.json ./
COPY bin ./bin
# The KrakenD schema ships beside the compiled validator.
COPY reconcilers/gateway-config/krakend-schema-v2.13.json ./dist/reconcilers/gateway-config/
# Last, so that a new revision rebuilds no layer above. Empty: `converge --version` says unknown.
ARG CONVERGE_REVISION=
ENV CONVERGE_REVISION=${CONVERGE_REVISION}
# Files stay root's: the process cannot change its own code.
USER node
EXPOSE 8080
# No curl in the image: a few lines of Node ask GET /healthz on CONVERGE_LISTEN's port (default 8080).
# The task definition in deploy/converge.yaml runs the same command (ECS ignores HEALTHCHECK).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/dist/src/cli/healthcheck.js"]
ENTRYPOINT ["node", "bin/converge.js"]
CMD ["run"]
