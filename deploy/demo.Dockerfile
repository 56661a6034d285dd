# The otelkit demo service, built from this repository (docker-compose.yml builds it with the repo root
# as context). Build stage: npm ci and tsc -b; run stage: the built workspace, started with the preload.
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages ./packages
COPY examples ./examples
RUN npm ci --no-audit --no-fund --ignore-scripts && npx tsc -b && npm prune --omit=dev --no-audit --no-fund

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
WORKDIR /app/examples/demo-service
USER node
EXPOSE 3000 9464
CMD ["node", "--import", "@otelkit/node/register", "dist/main.js"]
