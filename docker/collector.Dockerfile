# The Incident Lens collector: `incident-lens serve` (scheduler + HTTP on 8080).
# It runs from its TypeScript sources through tsx, as the CLI does in a clone.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production
# npm ci needs every workspace's manifest; only the collector's dependencies are installed.
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY collector/package.json collector/
COPY plugin/package.json plugin/
COPY simulators/package.json simulators/
RUN npm ci --omit=dev --workspace collector --include-workspace-root=false --no-audit --no-fund
COPY common common
COPY collector collector
COPY sql sql

USER node
EXPOSE 8080
ENTRYPOINT ["node", "collector/bin/incident-lens.js"]
# serve listens on 127.0.0.1 by default; in a container that is unreachable from outside.
CMD ["serve", "--port", "8080", "--host", "0.0.0.0"]
