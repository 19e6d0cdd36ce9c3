#!/usr/bin/env bash
# Makes sure every broker and database Sluice's integration tests talk to is
# up on 127.0.0.1, starting whichever is down, then prints one line each:
#
#   postgresql  5432   redis  6379   rabbitmq  5672   mosquitto  1883
#   nats (with JetStream)  4222      kafka (scripts/kafka.sh)  9092
#
# Safe to run any number of times: a service that answers is left alone.
# A service that is down is started with the same command the machine's setup
# uses; if it still does not answer, the run fails and names it. Nothing is
# ever skipped quietly: a test suite that passes because its broker was
# missing proves nothing.
#
# Usage: bash scripts/services.sh
# Env:   SERVICE_START_TIMEOUT  seconds to wait for a started service (default 30;
#                               RabbitMQ gets at least 60, it boots an Erlang VM)
#        plus the KAFKA_* / SLUICE_CACHE variables described in scripts/kafka.sh
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
HOST=127.0.0.1
START_TIMEOUT=${SERVICE_START_TIMEOUT:-30}

# The command-line clients (kcat for the Kafka check below, mosquitto-clients,
# curl) must exist before anything else.
"$SCRIPT_DIR/deps.sh"

failed=()

# --- probes ---------------------------------------------------------------
# Each probe_* returns 0 only if the service answered in its own protocol; an
# open port alone can be a process that is still booting or something else.

# The bash -c snippets below are single-quoted on purpose: host, port and
# payload reach them as positional arguments, never spliced into code.
# shellcheck disable=SC2016
tcp_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# Sends printf-format $2 to port $1 and prints the first $3 reply bytes as hex.
# Plain bash, so the probe does not depend on a client package.
# shellcheck disable=SC2016
exchange_hex() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "$2" >&3
    head -c "$3" <&3 | od -An -tx1 | tr -d " \n"
  ' "$HOST" "$@" 2>/dev/null
}

probe_postgresql() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h "$HOST" -p 5432 -t 3
  else
    tcp_open 5432
  fi
}

probe_redis() {
  if command -v redis-cli >/dev/null; then
    [[ $(timeout 3 redis-cli -h "$HOST" -p 6379 ping 2>/dev/null) == PONG ]]
  else
    [[ $(exchange_hex 6379 'PING\r\n' 7) == 2b504f4e470d0a ]] # "+PONG\r\n"
  fi
}

# AMQP 0-9-1: after the protocol header the broker must open with a
# Connection.Start method frame: type 01, channel 0000, 4-byte size, then
# class 10 / method 10 (000a 000a). RabbitMQ's port opens before the broker
# is ready, so this matters.
probe_rabbitmq() {
  local reply
  reply=$(exchange_hex 5672 'AMQP\x00\x00\x09\x01' 11) || return 1
  [[ $reply == 010000????????000a000a ]]
}

# MQTT 3.1.1: CONNECT (clean session, client id "sluice-probe") followed by
# DISCONNECT; the broker must answer CONNACK 20 02 00 00 (accepted).
probe_mosquitto() {
  [[ $(exchange_hex 1883 '\x10\x18\x00\x04MQTT\x04\x02\x00\x3c\x00\x0csluice-probe\xe0\x00' 4) == 20020000 ]]
}

# NATS greets with an INFO line; with JetStream enabled it says
# "jetstream":true. CONNECT + PING must then be answered with PONG.
# shellcheck disable=SC2016
probe_nats() {
  local reply
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/4222" || exit 1
    printf "CONNECT {\"verbose\":false,\"name\":\"sluice-probe\"}\r\nPING\r\n" >&3
    head -n 2 <&3
  ' "$HOST" 2>/dev/null) || return 1
  [[ $reply == INFO*'"jetstream":true'* && $reply == *PONG* ]]
}

# --- start commands -------------------------------------------------------
# Exactly the commands the machine setup documents for each service.

# (The unquoted $(ls ...) is the documented command: it names the installed
# PostgreSQL major version.)
# shellcheck disable=SC2046
start_postgresql() { pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start; }
start_redis() {
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}
start_rabbitmq() { rabbitmq-server -detached; }
start_mosquitto() { mosquitto -d -c /etc/mosquitto/mosquitto.conf; }
start_nats() {
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

# --- ensure ---------------------------------------------------------------

# ensure NAME PORT WAIT_SECONDS WHAT: probe; if down, start, then poll until
# the probe passes or WAIT_SECONDS run out. Prints one status line.
ensure() {
  local name=$1 port=$2 wait=$3 what=$4
  if "probe_$name"; then
    printf '%-11s %s:%-5s up   %s\n' "$name" "$HOST" "$port" "$what"
    return 0
  fi

  local start_log started=$SECONDS
  start_log=$(mktemp)
  # A start command that fails outright (e.g. already starting, stale pid) is
  # not fatal by itself: what counts is whether the service answers after.
  "start_$name" >"$start_log" 2>&1 || true
  until "probe_$name"; do
    if ((SECONDS - started >= wait)); then
      printf '%-11s %s:%-5s DOWN could not be started within %ss\n' "$name" "$HOST" "$port" "$wait"
      if [[ -s $start_log ]]; then
        sed "s/^/  $name start: /" "$start_log" >&2
      fi
      if tcp_open "$port"; then
        echo "  $name: port $port is open but the service does not answer its protocol" >&2
      fi
      rm -f "$start_log"
      failed+=("$name")
      return 0
    fi
    sleep 0.5
  done
  rm -f "$start_log"
  printf '%-11s %s:%-5s up   %s (started in %ss)\n' "$name" "$HOST" "$port" "$what" "$((SECONDS - started))"
}

ensure postgresql 5432 "$START_TIMEOUT" "pg_isready: accepting connections"
ensure redis 6379 "$START_TIMEOUT" "PING -> PONG"
ensure rabbitmq 5672 "$((START_TIMEOUT > 60 ? START_TIMEOUT : 60))" "AMQP 0-9-1 Connection.Start"
# The amqp_1 connector tests need RabbitMQ's AMQP 1.0 plugin. Enabling it is online and
# idempotent (no restart); AMQP 0-9-1 clients are unaffected.
if [[ " ${failed[*]:-} " != *" rabbitmq "* ]] && command -v rabbitmq-plugins >/dev/null; then
  if ! rabbitmq-plugins list -e -m 2>/dev/null | grep -qx rabbitmq_amqp1_0; then
    if rabbitmq-plugins enable rabbitmq_amqp1_0 >/dev/null 2>&1; then
      printf '%-11s %s:%-5s up   AMQP 1.0 plugin enabled\n' rabbitmq "$HOST" 5672
    else
      printf '%-11s %s:%-5s DOWN could not enable rabbitmq_amqp1_0\n' rabbitmq "$HOST" 5672
      failed+=(rabbitmq-amqp1)
    fi
  fi
fi
ensure mosquitto 1883 "$START_TIMEOUT" "MQTT 3.1.1 CONNACK accepted"
ensure nats 4222 "$START_TIMEOUT" "INFO with JetStream, PING -> PONG"

# Kafka has no system service here; kafka.sh downloads, formats and starts a
# KRaft broker (or reuses the running one) and prints its own line.
if ! "$SCRIPT_DIR/kafka.sh" start; then
  printf '%-11s %s:%-5s DOWN see the messages above\n' kafka "$HOST" "${KAFKA_PORT:-9092}"
  failed+=(kafka)
fi

if ((${#failed[@]} > 0)); then
  echo "services.sh: not reachable: ${failed[*]}" >&2
  exit 1
fi
