#!/usr/bin/env bash
# Starts the local PostgreSQL and Mosquitto that the integration tests use, when they are installed but
# not running, and installs Chromium for the browser tests when it is missing (as root, with apt-get).
# Under CI=true a missing service is an error; elsewhere it is a loud warning and the tests that need it
# are skipped.
set -u

reachable() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

missing=()

if ! reachable 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 30); do reachable 5432 && break; sleep 0.5; done
  fi
  reachable 5432 || missing+=("PostgreSQL on 127.0.0.1:5432")
fi

if ! reachable 1883; then
  if command -v mosquitto >/dev/null 2>&1; then
    echo "services: starting Mosquitto"
    mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
    for _ in $(seq 1 20); do reachable 1883 && break; sleep 0.5; done
  fi
  reachable 1883 || missing+=("Mosquitto on 127.0.0.1:1883")
fi

# Headless Chromium for the dashboard's browser tests (Playwright drives Debian's Chromium; no browser download).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "services: installing Chromium (apt-get install chromium)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null \
      || { DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; } \
      || true
  fi
  [ -x /usr/bin/chromium ] || missing+=("Chromium at /usr/bin/chromium (install it: apt-get install chromium)")
fi

if [ ${#missing[@]} -gt 0 ]; then
  for m in "${missing[@]}"; do
    echo "################################################################################"
    echo "## services: $m is NOT available: the tests that need it will be SKIPPED"
    echo "################################################################################"
  done
  if [ "${CI:-}" = "true" ]; then
    echo "services: CI=true and a required service is missing: failing" >&2
    exit 1
  fi
fi
exit 0
