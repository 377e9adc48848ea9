# Stand-in for prom/alertmanager where no image registry answers (scripts/containers/base-images.sh): Debian's
# prometheus-alertmanager (0.25, older than the pinned image) with the official image's layout: user nobody,
# /alertmanager for data, the binary as the entrypoint.
FROM debian:bookworm-slim
LABEL org.opencontainers.image.description="STAND-IN for prom/alertmanager: Debian's alertmanager 0.25, built locally by scripts/containers/base-images.sh; never push" \
      io.price-service.stand-in="true"
RUN set -eu; \
    apt-get update -qq; apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null; \
    rm -rf /var/lib/apt/lists/*; mkdir -p /alertmanager; chown nobody:nogroup /alertmanager
USER nobody
WORKDIR /alertmanager
EXPOSE 9093
ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
