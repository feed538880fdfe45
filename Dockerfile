# syntax=docker/dockerfile:1
# converge: one long-lived Fargate task. Build: docker build -t converge .

FROM node:20-bookworm-slim AS build
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

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The KrakenD schema ships beside the compiled validator.
COPY reconcilers/gateway-config/krakend-schema-v2.13.json ./dist/reconcilers/gateway-config/
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/converge.js"]
CMD ["run"]
