# flowtally container image: built on Debian 12, run on Debian 12 slim as an
# unprivileged user. See README.md "Docker Compose quick start".
#
#   docker build -t flowtally .
#   docker run --rm -p 2055:2055/udp -p 127.0.0.1:8080:8080 flowtally
#
# Build dependencies are scripts/deps.sh's run set (test_packaging checks that
# both lists agree and that every package exists in Debian 12).

# ---- build stage ------------------------------------------------------------------
FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libpcap-dev libjansson-dev \
        librdkafka-dev libprotobuf-c-dev protobuf-c-compiler \
        libmaxminddb-dev libsqlite3-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target flowtally \
 && /build/flowtally --version

# ---- run stage --------------------------------------------------------------------
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpcap0.8 libjansson4 librdkafka1 libprotobuf-c1 libmaxminddb0 libsqlite3-0 libmicrohttpd12 \
        ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/flowtally --shell /usr/sbin/nologin flowtally \
 && install -d -o flowtally -g flowtally -m 0750 /var/lib/flowtally \
 && install -d -m 0755 /geoip
COPY --from=build /build/flowtally /usr/local/bin/flowtally
COPY sql/ /usr/local/share/flowtally/sql/
# Unprivileged from the start (no --user needed): every port is above 1024.
USER flowtally:flowtally
WORKDIR /var/lib/flowtally
VOLUME ["/var/lib/flowtally"]
EXPOSE 2055/udp 4739/udp 6343/udp 8080/tcp
ENTRYPOINT ["/usr/local/bin/flowtally"]
# HTTP on every container address so a published port reaches it; publish it
# on the host's loopback only (compose does) or add --http-token-file.
CMD ["--listen", "netflow://0.0.0.0:2055", "--listen", "netflow://0.0.0.0:4739", "--listen", "sflow://0.0.0.0:6343", \
     "--http", "0.0.0.0:8080", "--db", "/var/lib/flowtally/flowtally.db"]
