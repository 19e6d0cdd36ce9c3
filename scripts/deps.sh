#!/usr/bin/env bash
# Installs the Debian command-line clients Sluice's integration tests drive
# (real clients, so a test proves interoperability and not just our own code
# talking to itself):
#   kcat                 Kafka producer/consumer/metadata     (package kcat)
#   mosquitto_pub/_sub   MQTT publish/subscribe               (package mosquitto-clients)
#   curl                 HTTP and SSE (curl -N)               (package curl)
#   chromium             a real browser's EventSource and     (package chromium)
#                        WebSocket, driven headless through
#                        playwright-core (which never downloads
#                        a browser of its own here)
# Does nothing when all are present. apt-get update runs at most once, and
# only when something has to be installed.
set -euo pipefail

find_missing() {
  missing=()
  command -v kcat >/dev/null || missing+=(kcat)
  { command -v mosquitto_pub && command -v mosquitto_sub; } >/dev/null || missing+=(mosquitto-clients)
  command -v curl >/dev/null || missing+=(curl)
  command -v chromium >/dev/null || missing+=(chromium)
}

find_missing
((${#missing[@]} == 0)) && exit 0

# Test machines run as root; elsewhere fall back to sudo rather than failing.
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  }
  sudo=(sudo)
fi

# Several test runs may start together; let one of them install, and wait for
# another apt/dpkg user instead of failing on its lock.
exec {lock}>"${TMPDIR:-/tmp}/sluice-deps.lock"
flock -w 600 "$lock"
find_missing # another run may have installed them while we waited
((${#missing[@]} == 0)) && exit 0

echo "deps: installing ${missing[*]}" >&2
# apt/dpkg are chatty even with -qq; keep their output and show it only when
# something goes wrong.
apt_log=$(mktemp)
trap 'rm -f "$apt_log"' EXIT
apt_opts=(-o DPkg::Lock::Timeout=300 -qq)
if ! { "${sudo[@]}" apt-get "${apt_opts[@]}" update &&
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
  cat "$apt_log" >&2
  echo "deps: apt-get could not install: ${missing[*]}" >&2
  exit 1
fi

# Fail loudly if the packages did not provide the commands after all.
for cmd in kcat mosquitto_pub mosquitto_sub curl chromium; do
  command -v "$cmd" >/dev/null || { echo "deps: $cmd is still missing after apt-get install" >&2; exit 1; }
done
