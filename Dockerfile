# syntax=docker/dockerfile:1
# Switchyard container image: a static binary on scratch, run as a non-root
# user (65532), with the CA bundle for TLS to backends and the API server.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t switchyard .
# (make image). docs/kubernetes.md explains how it is deployed.

# Build stage, pinned to the Go release go.mod asks for (or newer); its
# commands are deploy/docker/build.sh, which the tests run as well.
ARG GO_VERSION=1.26.8
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH deploy/docker/build.sh /rootfs/usr/local/bin/switchyard "$VERSION"
# The final image's files: the CA bundle, a passwd/group naming the
# non-root user, and a /tmp (an emptyDir in Kubernetes).
RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
 && echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /rootfs/etc/passwd \
 && echo 'nonroot:x:65532:' > /rootfs/etc/group \
 && chmod 1777 /rootfs/tmp

# Final stage: nothing but the files above.
FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
# web, websecure (TLS) and the internal entry point (ping, API, metrics),
# as the Helm chart configures them: no port below 1024, no capability.
EXPOSE 8000 8443 8080
ENTRYPOINT ["/usr/local/bin/switchyard"]
