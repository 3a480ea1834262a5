# The istio-csr image, built with docker (docs/image.md), for CI systems that
# use docker. It makes the same root filesystem as `make image`: the same
# package list (image/packages, checked against the binaries' NEEDED entries
# by scripts/image-packages) and the same script (scripts/image-rootfs); the
# same user, entrypoint, environment and labels as scripts/build-image.
# tests/image (suite image.dockerfile) checks that the two agree. The digest
# differs from `make image`'s (docker writes its own tar and config); use
# `make image` for a reproducible archive. From the repository root:
#
#   docker build -t istio-csr:v0.1.0 --build-arg VERSION=v0.1.0 \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#
# The build stage comes from a registry (debian:bookworm); the final image
# has no base image.

FROM debian:bookworm AS build
ARG DEBIAN_FRONTEND=noninteractive
# The build packages of scripts/install-deps (same list, checked by tests/image).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      build-essential cmake ccache pkg-config libcaf-dev libgrpc++-dev \
      protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libssl-dev \
      openssl libboost-dev libboost-system-dev nlohmann-json3-dev \
      libspdlog-dev libyaml-cpp-dev libcli11-dev prometheus-cpp-dev prometheus
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DICSR_BUILD_TESTS=OFF \
 && cmake --build /build --target istio-csr csrctl -j "$(nproc)"
RUN scripts/image-packages --check /build/bin/istio-csr /build/bin/csrctl \
 && scripts/image-rootfs image/packages /rootfs /debs \
      /build/bin/istio-csr /build/bin/csrctl

FROM scratch
COPY --from=build /rootfs/ /
ARG VERSION=v0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.created=$CREATED
LABEL org.opencontainers.image.description="istio-csr (C++): a mesh CA agent that signs Istio workload certificates through cert-manager"
LABEL org.opencontainers.image.revision=$REVISION
LABEL org.opencontainers.image.title=istio-csr
LABEL org.opencontainers.image.version=$VERSION
USER 65532:65532
WORKDIR /
ENTRYPOINT ["/usr/bin/istio-csr"]
