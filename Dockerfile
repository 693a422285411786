# Multi-stage build: a static binary on a distroless base, running as non-root.
#
# The base images are build arguments, so the image builds where no registry can be pulled from:
# scripts/docker/docker.sh passes a Go toolchain and a Debian base it built itself
# (GO_IMAGE=kafka-sns-bridge-local/go:..., RUNTIME_IMAGE=kafka-sns-bridge-local/debian:bookworm).
# Go modules come from GOPROXY (build with --network host where containers have no network of
# their own).
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
ARG GOPROXY
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git is not copied in, so the version and commit come as build args:
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) --build-arg COMMIT=$(git rev-parse HEAD) .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/bridge ./cmd/bridge

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/bridge /usr/local/bin/bridge
# The image's configuration takes everything a deployment chooses from the environment (brokers,
# registry or the built-in schemas, topic ARNs, SNS endpoint) and bakes in no address:
# deploy/docker/config.yaml says which variables. Kubernetes mounts its own config.yaml over it
# (deploy/k8s/configmap.yaml).
COPY deploy/docker/config.yaml /etc/bridge/config.yaml
# The schemas for local mode (schemas.local_dir, the image's default when no registry is set),
# outside /etc/bridge, which Kubernetes mounts over.
COPY schemas/*.avsc /usr/share/kafka-sns-bridge/schemas/
# distroless's nonroot user, by number so that any runtime base works.
USER 65532:65532
EXPOSE 9090
# No HEALTHCHECK: distroless has no shell or curl to run one. Orchestrators
# probe GET /healthz (alive) and GET /readyz (ready) on port 9090 instead.
ENTRYPOINT ["/usr/local/bin/bridge"]
CMD ["run", "-config", "/etc/bridge/config.yaml"]
