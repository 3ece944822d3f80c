# Registry node image. Build: docker build -t model-registry .
# The runtime stage is what `npm run test:production` reproduces without Docker (keep them in step).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# The host agent alone: the one-file bundle (no node_modules) on a small Node image.
#   docker build --target agent -t model-registry-agent .
#   docker run --rm --network host -e INSTANCE_PASSWORD_FILE=/run/secrets/pw -v "$PWD/pw:/run/secrets/pw:ro" \
#     model-registry-agent --registry https://registry.example.com --instance <id> --upstream http://127.0.0.1:11434/v1
FROM node:24-alpine AS agent
COPY --from=build /app/dist/apps/host/agent.mjs /opt/model-registry-agent/agent.mjs
USER node
ENTRYPOINT ["node", "/opt/model-registry-agent/agent.mjs"]

# The registry node (the default target: the last stage).
FROM node:24-bookworm-slim AS registry
WORKDIR /app
ENV NODE_ENV=production PORT=3000
COPY package.json package-lock.json .npmrc ./
# Install scripts are not needed at run time: the Prisma client is generated into dist/ and
# bufferutil ships prebuilt binaries.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/apps ./dist/apps
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/prisma ./prisma
# Embedded mode (no DATABASE_URL) keeps PGlite's data in /app/.data, which the node user must own.
RUN mkdir .data && chown node:node .data
VOLUME /app/.data
USER node
EXPOSE 3000
# The slim image has no curl; /readyz is 503 while draining or when PostgreSQL/Redis are unreachable.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/registry/src/main.js"]
