"""Wall time and peak RSS of `rag index` on one large generated text file.

    .venv/bin/python bench/peak_rss.py                 # 50 MB, hashing model
    .venv/bin/python bench/peak_rss.py --mb 200 --shape lines

The file is Danish-looking text made from the words of corpus/ (paragraphs of
sentences by default; `--shape lines` gives one word per line, no sentence
ends: the chunker's worst case). The peak RSS is the kernel's high-water mark
for the `rag index` process (os.wait4), not a sample.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write_large_text(path: Path, mb: float, shape: str = "paragraphs", seed: int = 7) -> int:
    """Write about `mb` MB of text to `path`; returns its size in bytes."""
    words = sorted({w.lower() for f in (REPO / "corpus").glob("*.txt")
                    for w in re.findall(r"[^\W\d_]{3,}", f.read_text(encoding="utf-8"))})
    rng = random.Random(seed)
    if shape == "lines":
        block = "\n".join(rng.choice(words) for _ in range(20_000)) + "\n"
    else:
        paragraphs = []
        for _ in range(400):
            sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(6, 24))).capitalize() + "."
                         for _ in range(rng.randint(1, 8))]
            paragraphs.append(" ".join(sentences))
        block = "\n\n".join(paragraphs) + "\n\n"
    data = block.encode("utf-8")
    target = int(mb * 1024 * 1024)
    with path.open("wb") as f:
        written = 0
        while written < target:
            chunk = data[: target - written]
            f.write(chunk)
            written += len(chunk)
    return written


def run_measured(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
                 ) -> tuple[int, float, int, str, str]:
    """Run `cmd`; returns (exit code, seconds, peak RSS in bytes, stdout, stderr).

    Call it from a small process (as this script is): Linux carries the forking process's RSS
    high-water mark into the child's ru_maxrss (tests/test_hostile.py goes through a launcher).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in kilobytes on Linux
        return (proc.returncode, seconds, usage.ru_maxrss * 1024, out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"))


def rag_command() -> list[str]:
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag.cli"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--shape", choices=["paragraphs", "lines"], default="paragraphs")
    ap.add_argument("--model", default="hashing")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        size = write_large_text(docs / "stor.txt", args.mb, args.shape)
        base_rc, base_s, base_rss, _, _ = run_measured(
            [*rag_command(), "index", str(REPO / "corpus"), "--index", str(Path(tmp) / "small"),
             "--model", args.model, "--quiet"])
        rc, seconds, rss, out, err = run_measured(
            [*rag_command(), "index", str(docs), "--index", str(Path(tmp) / "index"), "--model", args.model,
             "--quiet"])
    print(out, end="")
    print(err, end="", file=sys.stderr)
    print(f"corpus/ (5 letters): {base_s:.1f} s, peak RSS {base_rss / 2**20:.0f} MB (exit {base_rc})")
    print(f"{size / 2**20:.0f} MB file ({args.shape}, model {args.model}): {seconds:.1f} s, "
          f"peak RSS {rss / 2**20:.0f} MB (exit {rc})")
    return rc


if __name__ == "__main__":
    sys.exit(main())
