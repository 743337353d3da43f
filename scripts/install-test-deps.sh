#!/usr/bin/env bash
# Installs what the service tests need besides the JDK and Maven: a redis-server binary for the Redis store
# tests (they use a Docker container instead where a Docker engine runs), Prometheus and promtool for the
# monitoring tests, the dockerfile-utils linter (npm) for the Dockerfile test, hey for the overload run and wrk for the
# serving-overhead run (and the test of its wrk script). Safe to run again; quiet
# unless it installs something.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=""

apt_install() {
    echo "install-test-deps: installing ${*: -1}" >&2
    if [ -z "$APT_UPDATED" ]; then
        $SUDO apt-get update -qq
        APT_UPDATED=1
    fi
    $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
    # The tests start their own servers on free ports; the packaged system service is not needed.
    $SUDO service redis-server stop >/dev/null 2>&1 || true
fi

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    # Without recommends: no node exporter, nothing else that starts a daemon.
    apt_install --no-install-recommends prometheus
    # The monitoring test starts its own Prometheus on a free port with its own configuration.
    $SUDO service prometheus stop >/dev/null 2>&1 || true
    $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
fi

if ! command -v hey >/dev/null 2>&1; then
    apt_install hey
fi

if ! command -v wrk >/dev/null 2>&1; then
    apt_install wrk
fi

if ! command -v dockerfile-utils >/dev/null 2>&1; then
    if ! command -v npm >/dev/null 2>&1; then
        apt_install npm
    fi
    echo "install-test-deps: installing dockerfile-utils (npm)" >&2
    $SUDO npm install --global --silent dockerfile-utils@0.16.3 >/dev/null
fi
