#!/usr/bin/env bash
# Runs a command against a scoring service on localhost:8080 (management :8081), then stops the service.
#   scripts/with-service.sh [--reuse] [--at-start] <model repository> <command> [args...]
# --reuse: when a service already answers readiness UP on :8081 (e.g. `make run` in another terminal), use it
# and leave it running. Otherwise the service jar is started in the background on <model repository>, the
# command runs once it is ready, and the service is stopped (SIGTERM, graceful) when the command ends.
# --at-start: run the command as soon as the service is started, not once it is ready; the command waits for
# readiness itself (e.g. to measure from the moment the service turns ready).
set -euo pipefail

REUSE=0
AT_START=0
while [ "${1:-}" = "--reuse" ] || [ "${1:-}" = "--at-start" ]; do
    if [ "$1" = "--reuse" ]; then REUSE=1; else AT_START=1; fi
    shift
done
REPOSITORY=$(realpath "$1"); shift
JAR=${SERVICE_JAR:-service/target/stem-net-service.jar}
READY=http://localhost:8081/actuator/health/readiness
LOG=${SERVICE_LOG:-build/service-$(date +%Y%m%dT%H%M%S).log}

if curl -fsS "$READY" >/dev/null 2>&1; then
    if [ "$REUSE" = 1 ]; then
        echo "with-service: using the service already running on :8080" >&2
        export SERVICE_PID=$(pgrep -f -n 'stem-net-service.jar' || true)
        exec "$@"
    fi
    echo "with-service: something already serves :8081; stop it first (this run needs its own service)" >&2
    exit 1
fi

mkdir -p "$(dirname "$LOG")"
# The JVM as in the chart's default pod: a 2 GiB memory limit (helm/stem-net/values.yaml) and the image's heap flags
# (Dockerfile, JAVA_TOOL_OPTIONS), so that benchmarks collect garbage as a deployment does; JAVA_OPTS come after them.
POD_JVM_OPTS="-XX:MaxRAM=2g -XX:InitialRAMPercentage=60 -XX:MaxRAMPercentage=60"
# shellcheck disable=SC2086 # SERVICE_OPTS is a list of JVM and --stem.* options
java $POD_JVM_OPTS ${JAVA_OPTS:-} -jar "$JAR" --stem.models.repository="$REPOSITORY" ${SERVICE_OPTS:-} >"$LOG" 2>&1 &
PID=$!
export SERVICE_PID=$PID  # for commands that account for the service's CPU time (ServingOverhead)
trap 'kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true' EXIT
echo "with-service: started the service (pid $PID, log $LOG) on $REPOSITORY" >&2
if [ "$AT_START" = 1 ]; then
    "$@"
    exit $?
fi
for _ in $(seq 1 180); do
    if curl -fsS "$READY" 2>/dev/null | grep -q '"UP"'; then
        echo "with-service: ready" >&2
        "$@"
        exit $?
    fi
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "with-service: the service exited; last lines of $LOG:" >&2
        tail -20 "$LOG" >&2
        exit 1
    fi
    sleep 1
done
echo "with-service: not ready after 180 s; see $LOG" >&2
exit 1
