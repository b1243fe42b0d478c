# The tier-01 MCP echo server of ap-demo (`ap-demo stack mcp`) as an image, for docker-compose.yml.
# Build from a checkout: the context is the repository root (see .dockerignore).

# --- build: install with the lock file, compile TypeScript, drop the dev dependencies ----------
FROM node:22-bookworm-slim AS build
# Compilers for better-sqlite3 when no prebuilt binary matches the platform (it is loaded only by
# the embedded authorization server, but `npm ci` installs it either way).
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script builds from sources that are not copied yet; the one
# install script that matters (better-sqlite3's native module) is run explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3
COPY tsconfig.json oclif.manifest.json ./
COPY bin/ bin/
COPY src/ src/
COPY scripts/bundle.mjs scripts/
COPY scripts/bundle-shims/ scripts/bundle-shims/
# The sources are compiled, then bundled as the CLI runs them (package.json oclif.commands points
# at dist/bundle); the committed oclif.manifest.json is used as it is.
RUN npx tsc -p tsconfig.json \
  && node scripts/bundle.mjs \
  && npm prune --omit=dev --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------------
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/oclif.manifest.json ./
COPY --from=build /app/bin/ bin/
COPY --from=build /app/dist/src/ dist/src/
COPY --from=build /app/dist/bundle/ dist/bundle/
COPY --from=build /app/node_modules/ node_modules/
# The image's `node` user; the MCP server keeps nothing on disk.
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/run.js"]
CMD ["stack", "mcp", "--host=0.0.0.0", "--port=8080"]
