"""Bare ONNX Runtime per execution provider: a bundle's dense network timed on CPU and, where the installed
onnxruntime has it, CUDA, side by side in one run.

The service's CUDA path needs the Java `onnxruntime_gpu` jar and CUDA 12 libraries; this script needs only a
Python onnxruntime (`onnxruntime-gpu` for the CUDA rows), so it answers "does a GPU pay for this network at this
request size?" on any host. Inputs are random embeddings of the graph's own shapes; closed-loop clients, each
running one request after another for --seconds, so throughput and p50/p99 are per request of N candidates.

    python scripts/perf/ort_providers.py --model build/bench-bundles/stem-net/model.onnx \
        --candidates 20,200,1000 --clients 1,4,16 --seconds 5
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np
import onnxruntime as ort


def session_for(model: str, provider: str, intra_op_threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    # As the service: a scoring thread must not spin on a core another request needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=[provider])


def random_inputs(session: ort.InferenceSession, candidates: int, rng: np.random.Generator) -> dict:
    inputs = {}
    for graph_input in session.get_inputs():
        shape = [candidates if not isinstance(d, int) else d for d in graph_input.shape]
        inputs[graph_input.name] = rng.standard_normal(shape, dtype=np.float32) * 0.05
    return inputs


def closed_loop(session: ort.InferenceSession, inputs: dict, clients: int, seconds: float) -> list[float]:
    """Latencies in ms of every request finished by `clients` threads, each sending the next one at once."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop_at = time.perf_counter() + seconds

    def client(out: list[float]) -> None:
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                return
            session.run(None, inputs)
            out.append((time.perf_counter() - started) * 1000.0)

    threads = [threading.Thread(target=client, args=(latencies[i],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [ms for per_client in latencies for ms in per_client]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a bundle's model.onnx")
    parser.add_argument("--candidates", default="20,200,1000")
    parser.add_argument("--clients", default="1,4,16", help="closed-loop concurrency levels")
    parser.add_argument("--seconds", type=float, default=5.0, help="per (provider, candidates, clients) cell")
    parser.add_argument("--warmup-runs", type=int, default=50)
    parser.add_argument("--intra-op-threads", type=int, default=1, help="CPU provider; the service's default is 1")
    args = parser.parse_args()

    available = ort.get_available_providers()
    providers = [p for p in ("CPUExecutionProvider", "CUDAExecutionProvider") if p in available]
    print(f"onnxruntime {ort.__version__}, device {ort.get_device()}, providers available: {available}")
    if "CUDAExecutionProvider" not in providers:
        print("no CUDAExecutionProvider in this onnxruntime: CPU rows only")
    rng = np.random.default_rng(7)
    print("| provider | candidates | clients | requests/s | candidates/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for provider in providers:
        session = session_for(args.model, provider, args.intra_op_threads)
        for candidates in (int(c) for c in args.candidates.split(",")):
            inputs = random_inputs(session, candidates, rng)
            for _ in range(args.warmup_runs):
                session.run(None, inputs)
            for clients in (int(c) for c in args.clients.split(",")):
                latencies = np.array(closed_loop(session, inputs, clients, args.seconds))
                rate = len(latencies) / args.seconds
                print(f"| {provider.removesuffix('ExecutionProvider')} | {candidates} | {clients} | {rate:.0f} | "
                      f"{rate * candidates:.0f} | {np.percentile(latencies, 50):.2f} | "
                      f"{np.percentile(latencies, 99):.2f} |", flush=True)


if __name__ == "__main__":
    main()
