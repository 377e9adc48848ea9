# Stand-in for redis:7.4-alpine where no image registry answers (scripts/containers/base-images.sh): Debian's
# redis-server (7.0) on the debian:bookworm-slim stand-in, with the official image's user (redis 999:999),
# /data as the working directory, and protected mode off as the official image is built (otherwise clients
# from other containers are refused: write EPIPE).
FROM debian:bookworm-slim
LABEL org.opencontainers.image.description="STAND-IN for redis:7.4-alpine: Debian's redis-server 7.0, built locally by scripts/containers/base-images.sh; never push" \
      io.price-service.stand-in="true"
RUN set -eu; \
    groupadd --system --gid 999 redis; useradd --system --uid 999 --gid redis --home-dir /data redis; \
    apt-get update -qq; apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null; \
    rm -rf /var/lib/apt/lists/* /etc/redis/redis.conf; \
    mkdir -p /data; chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
