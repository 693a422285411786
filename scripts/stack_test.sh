#!/usr/bin/env bash
# scripts/stack_test.sh — checks scripts/stack.sh the way `make test` and people use it, on a stack
# of its own (own state directory, ports shifted by STACK_TEST_PORT_OFFSET), so it can run while the
# default stack is up. `make stack-test` runs it; `make test` runs that before the integration tests.
#
#   1. two `up`s at once from nothing: one starts everything, the other waits for the lock and
#      reuses it; status says up; env exports the addresses (and the SASL_SSL ones, which work:
#      a record goes through, a wrong password and a client without the CA are refused)
#   2. `up` while running reuses every service (same pids)
#   3. down: status down, ports closed; a pid file naming a live process that is not ours is
#      not taken for a service
#   4. a service that exits while starting (the registry, its management port bound by another
#      socket) fails `up` with its log; Kafka, whose SCRAM stamp was removed, gets its user through
#      kafka-configs
#   5. up again: Kafka reused, the topic made in 1 still there, SASL_SSL still works; a service
#      whose pid file was lost is adopted, not started twice
#   6. down
#
# Environment: STACK_TEST_DIR (state, default .stack-test; deleted at the start),
# STACK_TEST_DOWNLOADS (default .stack, shared with the default stack so nothing is downloaded
# twice), STACK_TEST_PORT_OFFSET (default 1000: Kafka on 10092, SASL_SSL 10192, moto 5566, ...).
# Needs what scripts/stack.sh needs, plus Go (the check client, scripts/stack/kafkacheck).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export STACK_DIR=${STACK_TEST_DIR:-$ROOT/.stack-test}
export STACK_DOWNLOADS=${STACK_TEST_DOWNLOADS:-$ROOT/.stack}
export STACK_PORT_OFFSET=${STACK_TEST_PORT_OFFSET:-1000}
OFF=$STACK_PORT_OFFSET
STACKSH=$ROOT/scripts/stack.sh
HOST=127.0.0.1

case $(cd "$(dirname "$STACK_DIR")" 2>/dev/null && pwd)/$(basename "$STACK_DIR") in
/ | "$ROOT" | "$ROOT/.stack" | "$(cd "$STACK_DOWNLOADS" 2>/dev/null && pwd)")
	echo "stack_test: STACK_TEST_DIR=$STACK_DIR would delete the default stack or the downloads" >&2
	exit 2
	;;
esac
((OFF > 0)) || { echo "stack_test: STACK_TEST_PORT_OFFSET must not be 0 (the default stack's ports)" >&2 && exit 2; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/stack_test.XXXXXX")
START=$SECONDS
HOLDER_PID=''

step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - START))" "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
fail() {
	printf '\nstack_test: FAIL: %s\n' "$*" >&2
	exit 1
}
# show FILE: a command's captured output, indented.
show() { sed 's/^/    | /' "$1"; }

cleanup() {
	local status=$?
	[[ -n $HOLDER_PID ]] && kill "$HOLDER_PID" 2>/dev/null
	((${#WATCHERS[@]})) && kill "${WATCHERS[@]}" 2>/dev/null
	[[ -n $HOLDER_PID ]] && wait "$HOLDER_PID" 2>/dev/null
	"$STACKSH" down >"$OUT/cleanup.log" 2>&1 || { echo "stack_test: down failed:" && show "$OUT/cleanup.log"; }
	if ((status)); then
		echo "stack_test: outputs in $OUT, services' logs under $STACK_DIR" >&2
	else
		rm -rf "$OUT"
		printf '\nstack_test: PASS in %ds\n' "$((SECONDS - START))"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# watch PID NAME: while PID runs, every STALL_SECS show what it and its children are waiting
# for: a step that hangs says where, instead of only hitting make's timeout.
STALL_SECS=${STACK_TEST_STALL_SECS:-300}
watch() {
	local pid=$1 name=$2 sid n=0
	sid=$(ps -o sid= -p $$ | tr -d ' ')
	(
		while kill -0 "$pid" 2>/dev/null; do
			sleep 1
			((++n % STALL_SECS)) && continue
			echo "stack_test: $name still running after ${n}s; this session's processes:"
			ps -o pid,ppid,stat,wchan:24,etime,args -s "$sid" | cut -c1-220
			cat "/proc/$pid/stack" 2>/dev/null
			tail -n 5 "$OUT/$name.log"
		done >&2
	) </dev/null 8>&- 9>&- &
	WATCHERS+=($!)
}
WATCHERS=()

# run NAME ARGS...: scripts/stack.sh ARGS in the background, output to $OUT/NAME.log, watched; its
# pid in RAN.
run() {
	local name=$1
	shift
	"$STACKSH" "$@" >"$OUT/$name.log" 2>&1 &
	RAN=$!
	watch "$RAN" "$name"
}

# stack NAME ARGS...: scripts/stack.sh ARGS, output to $OUT/NAME.log; fail unless it succeeds.
stack() {
	local name=$1 status=0
	shift
	run "$name" "$@"
	wait "$RAN" || status=$?
	if ((status)); then
		show "$OUT/$name.log"
		fail "scripts/stack.sh $* exited with status $status"
	fi
}
has() { grep -qF -- "$2" "$OUT/$1.log" || { show "$OUT/$1.log" && fail "$1: no line with '$2'"; }; }

# pid SERVICE: its pid as status shows it (- when down); the PID column starts at 18.
pid() { "$STACKSH" status | awk -v s="$1" 'index($0, s) == 1 { p = substr($0, 18, 8); gsub(/ /, "", p); print p; exit }'; }

# states: "kafka=up moto=up registry=up" from status.
states() { "$STACKSH" status | awk 'NR > 1 { printf "%s%s=%s", (NR > 2 ? " " : ""), $1, $NF } END { print "" }'; }
expect_states() {
	local got
	got=$(states)
	[[ $got == "$1" ]] || { "$STACKSH" status && fail "status: want $1, got $got"; }
	ok "status: $got"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
PORTS=($((9092 + OFF)) $((9192 + OFF)) $((19092 + OFF)) $((4566 + OFF)) $((8081 + OFF)) $((18081 + OFF)))
expect_ports_closed() {
	local p
	for p in "${PORTS[@]}"; do port_open "$p" && fail "port $p still accepts connections"; done
	ok "ports ${PORTS[*]} closed"
}

# expect_env: eval scripts/stack.sh env and check what the tests read.
expect_env() {
	local name want
	"$STACKSH" env >"$OUT/env.log"
	eval "$(<"$OUT/env.log")"
	for name in BRIDGE_TEST_KAFKA BRIDGE_TEST_KAFKA_SASL_SSL BRIDGE_TEST_SNS_ENDPOINT BRIDGE_TEST_REGISTRY; do
		case $name in
		BRIDGE_TEST_KAFKA) want=$HOST:$((9092 + OFF)) ;;
		BRIDGE_TEST_KAFKA_SASL_SSL) want=$HOST:$((9192 + OFF)) ;;
		BRIDGE_TEST_SNS_ENDPOINT) want=http://$HOST:$((4566 + OFF)) ;;
		BRIDGE_TEST_REGISTRY) want=http://$HOST:$((8081 + OFF))/apis/ccompat/v7 ;;
		esac
		[[ ${!name:-} == "$want" ]] || { show "$OUT/env.log" && fail "env: $name=${!name:-}, want $want"; }
	done
	[[ -s ${BRIDGE_TEST_KAFKA_CA:-} && -n ${BRIDGE_TEST_KAFKA_USER:-} && -n ${BRIDGE_TEST_KAFKA_PASSWORD:-} ]] ||
		{ show "$OUT/env.log" && fail "env: no CA file, user or password for SASL_SSL"; }
	ok "env: $BRIDGE_TEST_KAFKA, SASL_SSL $BRIDGE_TEST_KAFKA_SASL_SSL, $BRIDGE_TEST_SNS_ENDPOINT, $BRIDGE_TEST_REGISTRY"
}

check() { # kafkacheck ARGS, its lines shown
	"$OUT/kafkacheck" "$@" >"$OUT/check.log" 2>&1 || { show "$OUT/check.log" && fail "kafkacheck $*"; }
	sed 's/^/    ok: /' "$OUT/check.log"
}

step "building the check client (scripts/stack/kafkacheck)"
(cd "$ROOT" && go build -o "$OUT/kafkacheck" ./scripts/stack/kafkacheck)
"$STACKSH" down >/dev/null 2>&1 || true # an earlier run killed before its cleanup
rm -rf "$STACK_DIR"
ok "state $STACK_DIR, downloads $STACK_DOWNLOADS, port offset $OFF"

step "1. two ups at once, from nothing"
run up-a up
a=$RAN
run up-b up
b=$RAN
wait "$a" || { show "$OUT/up-a.log" && fail "first up failed"; }
wait "$b" || { show "$OUT/up-b.log" && fail "second up failed"; }
if grep -q 'kafka node 1: starting' "$OUT/up-a.log"; then first=up-a second=up-b; else first=up-b second=up-a; fi
has "$first" 'kafka node 1: formatting storage'
has "$first" 'moto: started'
has "$first" 'registry: started'
has "$second" 'waiting for it'
has "$second" 'kafka node 1: running'
has "$second" 'moto: running'
has "$second" 'registry: running'
ok "one up started the services, the other waited for the lock and reused them"
expect_states "kafka=up moto=up registry=up"
expect_env
topic=stack-test-$RANDOM$RANDOM
check create "$topic"
check secure "$topic"
kafka_pid=$(pid kafka) moto_pid=$(pid moto) registry_pid=$(pid registry)

step "2. up while running"
stack up-again up
has up-again "kafka node 1: running (pid $kafka_pid), reused"
has up-again "moto: running (pid $moto_pid)"
has up-again "registry: running (pid $registry_pid)"
ok "reused: same pids $kafka_pid $moto_pid $registry_pid"

step "3. down"
stack down down
expect_states "kafka=down moto=down registry=down"
expect_ports_closed
for p in "$kafka_pid" "$moto_pid" "$registry_pid"; do
	# A zombie (exited, not yet reaped by init) has closed everything: it counts as gone.
	{ read -r stat <"/proc/$p/stat"; } 2>/dev/null || continue
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]] || fail "pid $p still alive after down: $stat"
done
ok "pids $kafka_pid $moto_pid $registry_pid gone"
echo $$ >"$STACK_DIR/run/moto.pid" # a live process that is not moto
expect_states "kafka=down moto=down registry=down"
"$STACKSH" env | grep -q BRIDGE_TEST_SNS_ENDPOINT && fail "env lists moto, whose pid file names another process"
ok "a pid file naming another live process is not taken for moto"

step "4. a service that exits while starting"
# Bound but not listening: connecting is refused (so the port looks free), binding fails. Not
# moto's port: the connections of steps 1-2 left it in TIME_WAIT, which a socket without
# SO_REUSEADDR cannot bind, and one with it would not stop moto, which sets it too. Nothing has
# connected to the registry's management port.
mkfifo "$OUT/holder"
exec {holder}<>"$OUT/holder" # read-write: opening does not wait for python, reading is bounded
python3 -c '
import signal, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
print("bound", flush=True)
signal.pause()' "$((18081 + OFF))" >"$OUT/holder" &
HOLDER_PID=$!
read -r -t 30 line <&"$holder" || line=''
exec {holder}>&-
[[ $line == bound ]] || fail "could not bind the registry's management port"
rm "$STACK_DIR/kafka/cluster-1/scram.sha256" # as for a cluster made before SASL_SSL
run up-fail up
if wait "$RAN"; then
	show "$OUT/up-fail.log"
	fail "up succeeded although the registry could not bind its management port"
fi
has up-fail 'stack: error: registry: exited while starting'
has up-fail '--- last 40 lines of'
has up-fail "$((18081 + OFF))"
has up-fail 'setting the SCRAM-SHA-512 password of user bridge'
ok "up failed, naming the registry and showing its log: $(grep -m1 'stack: error' "$OUT/up-fail.log")"
expect_states "kafka=up moto=up registry=down"
kill "$HOLDER_PID"
wait "$HOLDER_PID" 2>/dev/null || true
HOLDER_PID=''
kafka_pid=$(pid kafka) moto_pid=$(pid moto)

step "5. up again: data kept"
stack up-data up
has up-data "kafka node 1: running (pid $kafka_pid), reused"
has up-data "moto: running (pid $moto_pid)"
has up-data 'registry: started'
expect_states "kafka=up moto=up registry=up"
expect_env
check exists "$topic"
check secure "$topic"
rm "$STACK_DIR/run/moto.pid"
expect_states "kafka=up moto=down registry=up"
stack up-adopt up
has up-adopt "moto: pid $moto_pid runs it but its pid file was lost; adopting it"
has up-adopt "moto: running (pid $moto_pid)"
expect_states "kafka=up moto=up registry=up"
ok "moto adopted (pid $moto_pid), not started again"

step "6. down"
stack down-end down
expect_states "kafka=down moto=down registry=down"
expect_ports_closed
