# Stand-in for prom/prometheus where no image registry answers (scripts/containers/base-images.sh): Debian's
# prometheus package (2.42, older than the pinned image) with the official image's layout: user nobody,
# /prometheus for data, /etc/prometheus for the configuration, the binary as the entrypoint.
FROM debian:bookworm-slim
LABEL org.opencontainers.image.description="STAND-IN for prom/prometheus: Debian's prometheus 2.42, built locally by scripts/containers/base-images.sh; never push" \
      io.price-service.stand-in="true"
RUN set -eu; \
    apt-get update -qq; apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
    rm -rf /var/lib/apt/lists/*; mkdir -p /prometheus; chown nobody:nogroup /prometheus; prometheus --version
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
