# syntax=docker/dockerfile:1
# Multi-stage build: a static binary on a distroless base, running as non-root.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git is not copied in, so the version and commit come as build args:
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) --build-arg COMMIT=$(git rev-parse HEAD) .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/bridge ./cmd/bridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bridge /usr/local/bin/bridge
# The example configuration. It listens on 127.0.0.1:9090; containers set
# BRIDGE_HTTP_LISTEN=0.0.0.0:9090 (docker-compose.yml, deploy/k8s) so that
# Prometheus and the probes can reach /metrics, /healthz and /readyz.
# Kubernetes mounts its own config.yaml over this one (deploy/k8s/configmap.yaml).
COPY config.yaml /etc/bridge/config.yaml
USER nonroot:nonroot
EXPOSE 9090
# No HEALTHCHECK: distroless has no shell or curl to run one. Orchestrators
# probe GET /healthz (alive) and GET /readyz (ready) on port 9090 instead.
ENTRYPOINT ["/usr/local/bin/bridge"]
CMD ["run", "-config", "/etc/bridge/config.yaml"]
