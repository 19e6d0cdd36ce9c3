#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft: broker + controller in
# one JVM) for Sluice's tests. Debian has no Kafka package, so the broker jars
# come from Maven Central via scripts/kafka/pom.xml and are cached per user.
#
#   scripts/kafka.sh start    start (or reuse) the broker and wait until it answers
#   scripts/kafka.sh stop     stop the broker this data dir started (by PID)
#   scripts/kafka.sh status   exit 0 and print a line if it answers, else exit 1
#   scripts/kafka.sh fetch    only download the jars into the cache
#
# Environment (all optional):
#   KAFKA_PORT             client listener port                (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener port      (default 9093)
#   KAFKA_DATA_DIR         config, KRaft logs, pid and log file
#                          (default <cache>/kafka/broker-$KAFKA_PORT)
#   KAFKA_VERSION          org.apache.kafka:kafka_2.13 version (default 4.1.2)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker      (default 90)
#   KAFKA_HEAP_OPTS        JVM heap flags                      (default -Xmx512m)
#   KAFKA_JVM_OPTS         extra JVM flags for the broker      (default none).
#                          Short-lived crash-test brokers pass
#                          "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC", which
#                          halves the CPU a start costs; the shared broker keeps
#                          the full JIT because it is also benchmarked.
#   KAFKA_SESSION_TIMEOUT_MS  broker session with its controller (default 9000,
#                          Kafka's own). After a kill -9 a restarted broker
#                          waits this long to re-register, so crash tests use
#                          less (test/support/kafka-broker.ts: 2000).
#   SLUICE_CACHE           cache root           (default $HOME/.cache/sluice)
#
# A second, private broker (for restart tests) is just another set of ports and
# another data dir:
#   KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 KAFKA_DATA_DIR=$(mktemp -d) scripts/kafka.sh start
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
POM="$SCRIPT_DIR/kafka/pom.xml"
LOG4J_CONFIG="$SCRIPT_DIR/kafka/log4j2.properties"

# Only loopback: the broker is for tests on this machine, never for the network.
HOST=127.0.0.1
KAFKA_VERSION=${KAFKA_VERSION:-4.1.2}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:-}
KAFKA_SESSION_TIMEOUT_MS=${KAFKA_SESSION_TIMEOUT_MS:-9000}
CACHE_DIR="${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka"
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-$CACHE_DIR/broker-$KAFKA_PORT}
# Absolute, so the pid check (which matches the broker's command line) works
# whichever directory the script is called from.
KAFKA_DATA_DIR=$(realpath -m -- "$KAFKA_DATA_DIR")

# The jar folder is keyed by version and by a hash of the pom, so changing
# either fetches a fresh, consistent set instead of mixing old and new jars.
POM_HASH=$(sha256sum "$POM" | cut -c1-12)
LIBS_DIR="$CACHE_DIR/libs-$KAFKA_VERSION-$POM_HASH"

PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
CONSOLE_LOG="$KAFKA_DATA_DIR/kafka.out"   # JVM stdout/stderr (crashes, early errors)
SERVER_LOG="$KAFKA_DATA_DIR/server.log"   # log4j output, see kafka/log4j2.properties
PROPS="$KAFKA_DATA_DIR/server.properties"
LOG_DIRS="$KAFKA_DATA_DIR/kraft"

die() { echo "kafka: $*" >&2; exit 1; }

# kill -0 also succeeds for a zombie (exited, not yet reaped by its parent,
# which for a nohup'd broker is whatever init the machine runs), so look at
# the process state as well.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# Flags shared by the storage tool and the broker, so both log to the data
# dir instead of the console. The *_OPTS variables may hold several flags.
read -r -a HEAP_OPTS <<<"$KAFKA_HEAP_OPTS"
read -r -a EXTRA_OPTS <<<"$KAFKA_JVM_OPTS"
COMMON_OPTS=(-Djava.awt.headless=true
  -Dkafka.logs.dir="$KAFKA_DATA_DIR"
  -Dlog4j2.configurationFile="$LOG4J_CONFIG"
  -cp "$LIBS_DIR/*")
# The storage tool runs for a second: the quick (C1-only) JIT and the serial
# collector cost it far less CPU than the defaults.
java_tool() { java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${COMMON_OPTS[@]}" "$@"; }

# Downloads the broker's runtime jars once per machine (per cache dir).
fetch() {
  [[ -f "$LIBS_DIR/.complete" ]] && return 0
  command -v java >/dev/null || die "java (17+) is required to run the broker"
  command -v mvn >/dev/null || die "mvn is required to download the broker jars from Maven Central"
  mkdir -p "$CACHE_DIR"
  # Several test runs may start at once; only one downloads, the others wait.
  exec {lock}>"$CACHE_DIR/.fetch.lock"
  flock -w 600 "$lock" || die "timed out waiting for another download of the jars"
  if [[ ! -f "$LIBS_DIR/.complete" ]]; then
    echo "kafka: downloading kafka_2.13 $KAFKA_VERSION and its runtime dependencies" >&2
    local tmp
    tmp=$(mktemp -d "$LIBS_DIR.tmp.XXXXXX")
    # Download into a temp dir and rename, so an interrupted download never
    # leaves a half-filled folder that looks complete.
    # Maven's output is shown only on failure (even -q leaves colour codes).
    if ! mvn -q -B -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
      cat "$tmp.log" >&2
      rm -rf "$tmp" "$tmp.log"
      die "Maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
    fi
    rm -f "$tmp.log"
    touch "$tmp/.complete"
    rm -rf "$LIBS_DIR"
    mv "$tmp" "$LIBS_DIR"
  fi
  exec {lock}>&-
}

# Prints the PID from the pid file if that process is alive and really is the
# broker of this data dir (guards against a stale pid file whose PID has been
# reused by an unrelated process).
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid=$(<"$PID_FILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $PROPS" || return 1
  echo "$pid"
}

# A real protocol round trip: a metadata request that must list this broker.
# A bare TCP connect is not enough (the port opens before the broker has
# registered with its controller), but it goes first: against a closed port
# librdkafka keeps retrying until its metadata timeout, so every poll in the
# start loop would cost 3s.
answers() {
  port_open "$KAFKA_PORT" &&
    kcat -b "$HOST:$KAFKA_PORT" -L -m 3 2>/dev/null | grep -q "broker 1 at $HOST:$KAFKA_PORT"
}

port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# Version of the jars a running broker was started from (its classpath names
# the libs folder), for the status line.
running_version() {
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -o 'libs-[0-9][^/-]*' | head -n1 | cut -c6-
}

write_properties() {
  mkdir -p "$KAFKA_DATA_DIR" "$LOG_DIRS"
  # Heartbeats must come well inside the session: a quarter of it, at most
  # Kafka's default 2s.
  local heartbeat_ms=$((KAFKA_SESSION_TIMEOUT_MS / 4))
  ((heartbeat_ms > 2000)) && heartbeat_ms=2000
  # Rewritten on every start so port/env changes take effect; the KRaft
  # storage (LOG_DIRS) stays, so topics survive a broker restart.
  cat >"$PROPS" <<EOF
# Written by scripts/kafka.sh: single-node KRaft broker for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$LOG_DIRS
# One node: every internal topic must make do with one replica.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# After a crash (kill -9) the controller keeps the dead incarnation's
# registration until its session expires; the restarted broker cannot
# register before that (DUPLICATE_BROKER_REGISTRATION). See KAFKA_SESSION_TIMEOUT_MS.
broker.session.timeout.ms=$KAFKA_SESSION_TIMEOUT_MS
broker.heartbeat.interval.ms=$heartbeat_ms
# Tests create topics by producing to them and want consumers to join at once.
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
# The first consumer group on a fresh broker creates __consumer_offsets; with
# Kafka's default 50 partitions that takes seconds on a small machine, and
# one node gains nothing from spreading coordinators.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
# Keep a test machine's disk and CPU use small.
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

# Formats the KRaft storage once (what kafka-storage.sh format does). A
# formatted dir has meta.properties; reformatting would discard its topics.
format_once() {
  [[ -f "$LOG_DIRS/meta.properties" ]] && return 0
  local cluster_id
  cluster_id=$(java_tool kafka.tools.StorageTool random-uuid | tail -n1)
  [[ -n "$cluster_id" ]] || die "StorageTool random-uuid printed nothing (see $SERVER_LOG)"
  # Static controller.quorum.voters, so no --standalone is needed.
  java_tool kafka.tools.StorageTool format --ignore-formatted -t "$cluster_id" -c "$PROPS" >>"$CONSOLE_LOG" 2>&1 ||
    die "formatting $LOG_DIRS failed; see $CONSOLE_LOG"
}

status_line() {
  local pid=$1 how=$2
  printf 'kafka       %s:%-5s up   %s, pid %s, kafka %s, data %s\n' \
    "$HOST" "$KAFKA_PORT" "$how" "$pid" "$(running_version "$pid")" "$KAFKA_DATA_DIR"
}

start() {
  command -v kcat >/dev/null || "$SCRIPT_DIR/deps.sh"
  fetch
  mkdir -p "$KAFKA_DATA_DIR"
  # Serialise start/stop per data dir: two test runs must not both launch a JVM
  # on the same storage.
  exec {lock}>"$KAFKA_DATA_DIR/.start.lock"
  flock -w 180 "$lock" || die "timed out waiting for another start of $KAFKA_DATA_DIR"

  local pid
  if pid=$(our_pid); then
    if answers; then
      status_line "$pid" reused
      return 0
    fi
    # Ours but not answering: probably still starting (another run launched
    # it); fall through to the wait below instead of starting a second JVM.
  else
    # Something else holds the port. A Kafka broker started some other way
    # (another cache dir) still serves the tests; anything else is an error.
    if port_open "$KAFKA_PORT"; then
      answers && { echo "kafka       $HOST:$KAFKA_PORT up   reused, not started by this script (no pid in $KAFKA_DATA_DIR)"; return 0; }
      die "port $KAFKA_PORT is in use by something that does not speak Kafka"
    fi
    port_open "$KAFKA_CONTROLLER_PORT" && die "controller port $KAFKA_CONTROLLER_PORT is already in use"

    write_properties
    format_once
    # nohup + redirected stdio: the broker outlives this script and the shell
    # that ran it, and callers (e.g. Node's execFile) are not kept waiting on
    # an inherited pipe. The lock fd is closed for the JVM, or it would hold
    # the start lock for as long as it runs.
    nohup java "${HEAP_OPTS[@]}" "${EXTRA_OPTS[@]}" "${COMMON_OPTS[@]}" kafka.Kafka "$PROPS" \
      >>"$CONSOLE_LOG" 2>&1 </dev/null {lock}>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
  fi

  local started=$SECONDS
  until answers; do
    if ! alive "$pid"; then
      rm -f "$PID_FILE"
      echo "kafka: the broker exited during startup; last lines of its logs:" >&2
      tail -n 20 "$CONSOLE_LOG" "$SERVER_LOG" >&2 2>/dev/null || true
      die "broker on $HOST:$KAFKA_PORT failed to start"
    fi
    if ((SECONDS - started >= KAFKA_START_TIMEOUT)); then
      tail -n 20 "$SERVER_LOG" >&2 2>/dev/null || true
      die "broker on $HOST:$KAFKA_PORT did not answer a metadata request within ${KAFKA_START_TIMEOUT}s (pid $pid, logs in $KAFKA_DATA_DIR)"
    fi
    sleep 0.25
  done
  status_line "$pid" "started in $((SECONDS - started))s"
}

stop() {
  mkdir -p "$KAFKA_DATA_DIR"
  exec {lock}>"$KAFKA_DATA_DIR/.start.lock"
  flock -w 180 "$lock" || die "timed out waiting for another start/stop of $KAFKA_DATA_DIR"
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PID_FILE"
    echo "kafka       $HOST:$KAFKA_PORT not running from $KAFKA_DATA_DIR"
    return 0
  fi
  # SIGTERM lets the broker flush and close its logs cleanly; escalate only if
  # it hangs. Always by PID from our own pid file, never by process name.
  kill -TERM "$pid"
  local i
  for ((i = 0; i < 150; i++)); do
    alive "$pid" || break
    sleep 0.2
  done
  if alive "$pid"; then
    echo "kafka: pid $pid ignored SIGTERM for 30s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  echo "kafka       $HOST:$KAFKA_PORT stopped (pid $pid)"
}

status() {
  local pid
  if pid=$(our_pid) && answers; then
    status_line "$pid" running
  elif answers; then
    echo "kafka       $HOST:$KAFKA_PORT up   not started from $KAFKA_DATA_DIR"
  else
    echo "kafka       $HOST:$KAFKA_PORT down"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  fetch) fetch ;;
  *)
    echo "usage: $0 start|stop|status|fetch" >&2
    exit 2
    ;;
esac
