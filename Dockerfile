# graced itself, built from this repository: the static binary (./configure
# --enable-static-binary, README "A static binary") in an image with nothing else.
#
#   docker build -t graced .
#   docker run --rm graced --version
#
# Other images take graced from it (etc/examples/Dockerfile):
#
#   COPY --from=graced /usr/bin/graced /usr/bin/graced
#   ENTRYPOINT ["/usr/bin/graced", "--"]

# Stage 1: build and test the static binary on Debian 12, as ./dev static does.
FROM debian:12-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential autoconf automake pkg-config libevent-dev libinih-dev libjansson-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN autoreconf -fi \
    && mkdir _build-static && cd _build-static \
    && ../configure --enable-static-binary --prefix=/usr --sysconfdir=/etc \
        --without-systemdsystemunitdir \
    && make -j"$(nproc)" \
    && ! ldd src/graced \
    && make install-strip DESTDIR=/out \
    && /out/usr/bin/graced --version \
    && /out/usr/bin/graced -c /out/etc/graced/graced.ini --check

# Stage 2: the binary, the example configuration and the manual pages, nothing else. From
# scratch: graced needs no shared library, no shell and no /etc/passwd (numeric user = ids).
FROM scratch
COPY --from=build /out/usr/bin/graced /usr/bin/graced
COPY --from=build /out/etc/graced /etc/graced
COPY --from=build /out/usr/share/doc/graced/examples /usr/share/doc/graced/examples
ENTRYPOINT ["/usr/bin/graced"]
CMD ["--help"]
