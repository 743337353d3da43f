#!/usr/bin/env bash
# Installs what the service tests need besides the JDK and Maven: a redis-server binary for the Redis store
# tests (they use a Docker container instead where a Docker engine runs). Safe to run again; quiet unless it
# installs something.
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
    echo "install-test-deps: installing redis-server" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq redis-server >/dev/null
    # The tests start their own servers on free ports; the packaged system service is not needed.
    $SUDO service redis-server stop >/dev/null 2>&1 || true
fi
