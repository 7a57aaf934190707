"""Load test: many concurrent gradio_client users asking the running app.

    .venv/bin/python bench/load_test.py --index index/ --total 200 --clients 20

Starts the app on a free 127.0.0.1 port in this process (the same `build_app`
and `launch` as `rag serve`), then `clients` threads, each with its own
gradio_client, share `total` questions from tests/eval/dev.jsonl through the
public `/ask` endpoint. Prints errors, throughput and latency percentiles. Only
loopback traffic; the run is bounded by `total`.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class LoadResult:
    total: int
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else 0.0

    def summary(self) -> dict[str, float | int]:
        return {"questions": self.total, "clients": self.clients, "errors": len(self.errors),
                "seconds": round(self.seconds, 2), "questions_per_s": round(self.total / self.seconds, 2),
                "p50_ms": round(self.percentile(0.5) * 1000), "p95_ms": round(self.percentile(0.95) * 1000)}


def dev_questions() -> list[str]:
    lines = (REPO / "tests" / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def run_load(url: str, questions: list[str], total: int, clients: int) -> LoadResult:
    """Send `total` questions from `clients` concurrent gradio_client users to `url`."""
    from gradio_client import Client

    result = LoadResult(total=total, clients=clients, seconds=0.0)
    lock = threading.Lock()
    next_question = iter(range(total))

    def user() -> None:
        client = Client(url, verbose=False)
        while True:
            with lock:
                n = next(next_question, None)
            if n is None:
                return
            started = time.perf_counter()
            try:
                answer = client.predict(questions[n % len(questions)], 3, api_name="/ask")
                if not isinstance(answer, dict) or "hits" not in answer:
                    raise ValueError(f"unexpected answer: {answer!r:.200}")
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                result.latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=user) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    result.seconds = time.perf_counter() - started
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=REPO / "index")
    parser.add_argument("--total", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    from rag import Settings
    from rag.web.access import Access
    from rag.web.app import build_app
    from rag.web.serve import launch

    demo = build_app(Settings(index_dir=args.index))
    url = launch(demo, Access("127.0.0.1"), free_port(), block=False)
    try:
        result = run_load(url, dev_questions(), args.total, args.clients)
    finally:
        demo.close(verbose=False)
    print(json.dumps(result.summary(), ensure_ascii=False))
    for error in result.errors[:5]:
        print("error:", error, file=sys.stderr)
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
