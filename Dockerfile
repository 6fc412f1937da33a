# The `cdc` command as an image. It is built the way test/package/package.it.test.ts installs rxcdc
# (this project's CI has no Docker engine, so that test is what checks these steps): `npm pack` of the
# sources, then `npm install` of the tarball into a fresh project, which brings rxjs as its peer.
#   docker build -t rxcdc .
#   docker run --rm -v "$PWD/pipeline.yaml:/config/pipeline.yaml:ro" rxcdc
FROM node:24-bookworm-slim AS pack
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json README.md index.ts ./
COPY bin bin
COPY cli cli
COPY connectors connectors
COPY docs docs
COPY serdes serdes
COPY topology topology
# Dev dependencies bring the compiler; `npm pack` builds dist/ (prepack) and packs it.
RUN npm ci --no-audit --no-fund && mkdir /pack && npm pack --pack-destination /pack

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=pack /pack/ /tmp/pack/
RUN echo '{ "name": "cdc-image", "private": true, "type": "module" }' > package.json \
  && npm install --omit=dev --no-audit --no-fund /tmp/pack/rxcdc-*.tgz \
  && rm -rf /tmp/pack \
  && npm cache clean --force
USER node
# The V8 flag of bin/cdc.js's shebang, given here because the entrypoint names node itself.
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/node_modules/rxcdc/bin/cdc.js"]
CMD ["run", "--config", "/config/pipeline.yaml"]
