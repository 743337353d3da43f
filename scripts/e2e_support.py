"""What the end-to-end scripts share: the service jar on free loopback ports, waited for until ready, stopped
gracefully; a failed check as an exception that names it."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple

READY_DEADLINE_S = 120
STOP_DEADLINE_S = 60


class CheckFailed(Exception):
    pass


def run_checks(name: str, run, args) -> int:
    """`run(args)`, then the process exit code: 0 and the time taken, or 1 and the failed check."""
    started = time.monotonic()
    try:
        run(args)
    except CheckFailed as failure:
        print(f"{name}: FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"{name}: passed in {time.monotonic() - started:.1f}s")
    return 0


class Ports(NamedTuple):
    public: int
    management: int


@contextmanager
def running_service(jar: Path, options: list[str], log_path: Path) -> Iterator[Ports]:
    """The jar with `options` on free 127.0.0.1 ports, ready; yields its ports, then stops it with SIGTERM, the
    graceful stop that finishes the requests in flight and writes out the exposure queue."""
    port, management_port = free_ports(2)
    with log_path.open("w") as log:
        service = subprocess.Popen(
            ["java", *os.environ.get("JAVA_OPTS", "").split(), "-jar", str(jar),
             f"--server.port={port}", f"--management.server.port={management_port}", "--server.address=127.0.0.1",
             "--management.server.address=127.0.0.1", *options],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(service, management_port, log_path)
            yield Ports(port, management_port)
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                service.kill()
                raise CheckFailed(f"the service did not stop within {STOP_DEADLINE_S}s of SIGTERM; see {log_path}")


def free_ports(count: int) -> list[int]:
    """Ports the OS hands out as free; the sockets stay open until all are picked so the ports differ."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def wait_ready(service: subprocess.Popen, management_port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_DEADLINE_S
    last_answer = "no answer"
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise CheckFailed(f"the service exited with {service.returncode}; see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", management_port, timeout=2)
            connection.request("GET", "/actuator/health/readiness")
            response = connection.getresponse()
            if response.status == 200:
                return
            last_answer = f"{response.status} {response.read()[:300]!r}"
        except OSError as error:
            last_answer = str(error)  # not listening yet
        time.sleep(0.2)  # poll interval, not a synchronisation: the loop ends on readiness or the deadline
    raise CheckFailed(f"the service was not ready within {READY_DEADLINE_S}s (readiness: {last_answer}); see {log}")
