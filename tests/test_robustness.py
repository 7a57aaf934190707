"""The index is never lost: SIGKILL mid-build, two builds at once, readers during a rebuild, damaged files.

The kill tests run the real `rag index` command in a subprocess. To kill it in a
chosen phase, some runs go through a tiny wrapper (HOOKED below) that patches the
running process only: the hashing embedder sleeps per batch ("embed"), or the
final fsync of the new generation never returns ("write"). The code under test
has no test hooks.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, S20_DIR, build

import rag.answer
from rag import RagError as AskError
from rag import Settings, ask
from rag.build import build_index
from rag.cli import main
from rag.errors import IndexProblem
from rag.model.hashing import HashingEmbedder
from rag.store import CURRENT, LOCK, current_generation, load_generation

QUESTIONS = (
    "Hvor mange kommuner fik penge fra puljen til kommuner med mange børnesager?",
    "kvalitetsramme opholdssteder",
    "spm. nr. 687",
    "plejefamilier og rekruttering",
)

HOOKED = r"""
import os, sys, time
from pathlib import Path

marker = Path(os.environ["RAG_TEST_MARKER"])
stage = os.environ["RAG_TEST_STAGE"]
import rag.model.hashing, rag.store

if stage == "embed":  # slow embedding: the kill lands while passages are being embedded
    original = rag.model.hashing.HashingEmbedder.embed_passages
    def embed_passages(self, texts, progress=False):
        marker.touch()
        time.sleep(float(os.environ.get("RAG_TEST_SLEEP", "0.05")))
        return original(self, texts, progress)
    rag.model.hashing.HashingEmbedder.embed_passages = embed_passages
elif stage == "write":  # every file of the new generation written, the swap not yet done
    def fsync_tree(folder):
        marker.touch()
        time.sleep(3600)
    rag.store._fsync_tree = fsync_tree

from rag.cli import main
sys.exit(main(sys.argv[1:]))
"""


def rag_command() -> list[str]:
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag.cli"]


def fingerprint(answer: rag.answer.Answer) -> list[tuple[str, int, int, float]]:
    return [(h.document.file, h.passage.start, h.passage.end, round(h.score, 6)) for h in answer.hits]


def fresh_answers(index_dir: Path) -> list[list[tuple[str, int, int, float]]]:
    """Answers from the index as on disk now: this process's cached copy is dropped first."""
    rag.answer._indexes.pop(Path(index_dir).resolve(), None)
    return [fingerprint(ask(q, settings=Settings(index_dir=index_dir))) for q in QUESTIONS]


def generated_letters(folder: Path, n: int, seed: int = 3) -> Path:
    """`n` letter-like texts made of corpus/ words: bulk so that a build takes a few seconds."""
    folder.mkdir(parents=True)
    words = sorted({w.lower() for f in CORPUS.glob("*.txt")
                    for w in re.findall(r"[^\W\d_]{3,}", f.read_text(encoding="utf-8"))})
    rng = random.Random(seed)
    for i in range(n):
        paragraphs = [" ".join(" ".join(rng.choice(words) for _ in range(rng.randint(6, 20))).capitalize() + "."
                               for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(8, 30))]
        (folder / f"brev_{i:04d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def large_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """corpus/ + the 375 § 20 files (when beside the repo) + generated letters: a build of several seconds."""
    generated = generated_letters(tmp_path_factory.mktemp("large") / "genereret", 400)
    return [CORPUS, *([S20_DIR] if S20_DIR.is_dir() else []), generated]


def index_entries(index_dir: Path) -> dict[str, list[str]]:
    names = sorted(p.name for p in index_dir.iterdir())
    return {
        "gen": [n for n in names if n.startswith("gen-")],
        "tmp": [n for n in names if n.startswith(".tmp-")],
        "current_tmp": [n for n in names if n.startswith(f".{CURRENT}.")],
    }


def start(args: Sequence[str], stage: str | None = None, marker: Path | None = None,
          sleep: float = 0.05) -> subprocess.Popen[bytes]:
    if stage is None:
        cmd = [*rag_command(), *args]
        env = None
    else:
        assert marker is not None
        cmd = [sys.executable, "-c", HOOKED, *args]
        env = {**os.environ, "RAG_TEST_STAGE": stage, "RAG_TEST_MARKER": str(marker), "RAG_TEST_SLEEP": str(sleep)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"rag index ended (exit {proc.returncode}) before the expected point:\n{out!r}\n{err!r}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("rag index did not reach the expected point in time")
        time.sleep(0.01)


def kill(proc: subprocess.Popen[bytes]) -> None:
    assert proc.poll() is None, "rag index had already ended: the kill would prove nothing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def complete_run(roots: Sequence[Path], index_dir: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*rag_command(), "index", *map(str, roots), "--index", str(index_dir),
                             "--model", "hashing", "--quiet"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def assert_clean(index_dir: Path) -> str:
    """Exactly one generation, the one CURRENT names; no leftovers of dead runs."""
    entries = index_entries(index_dir)
    current = current_generation(index_dir)
    assert entries == {"gen": [current], "tmp": [], "current_tmp": []}, entries
    assert current is not None
    return current


# ---------------------------------------------------------------------------
# SIGKILL mid-build


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["embed", "write"])
def test_sigkill_mid_build_keeps_the_previous_index(stage: str, large_corpus: list[Path], tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    old_generation = current_generation(index_dir)
    before = fresh_answers(index_dir)
    assert all(before), "expected hits for every question"

    marker = tmp_path / "reached"
    proc = start(["index", *map(str, large_corpus), "--index", str(index_dir), "--model", "hashing", "--quiet"],
                 stage=stage, marker=marker)
    wait_for(marker.exists, proc)
    if stage == "embed":
        time.sleep(0.3)  # well inside the embedding loop
    else:  # the new generation is complete in its temporary folder, the swap has not happened
        tmp = index_entries(index_dir)["tmp"]
        assert len(tmp) == 1 and (index_dir / tmp[0] / "manifest.json").exists(), tmp
    kill(proc)

    # The previous index is in use, whole, and answers exactly as before...
    assert current_generation(index_dir) == old_generation
    index = load_generation(index_dir)
    assert index is not None and sorted(index.documents) == sorted(p.name for p in CORPUS.glob("*.txt"))
    assert fresh_answers(index_dir) == before
    # ... also in a fresh process.
    result = subprocess.run([*rag_command(), "ask", QUESTIONS[0], "--json", "--index", str(index_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    assert [(h["file"], h["start"], h["end"], h["score"]) for h in hits] == before[0]

    # The dead run's lock does not block the next run, which completes and removes its leftovers.
    complete_run(large_corpus, index_dir)
    new_generation = assert_clean(index_dir)
    assert new_generation != old_generation
    index = load_generation(index_dir)
    assert index is not None and len(index.documents) > 400


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_the_old_or_the_new_index(large_corpus: list[Path], tmp_path: Path) -> None:
    """The real command, no hooks, killed after various delays: whatever the phase, an index that loads."""
    started = time.monotonic()
    complete_run(large_corpus, tmp_path / "timing")
    full_run = time.monotonic() - started  # ~2.5 s on a quiet 2-core machine
    outcomes = []
    index_dir = tmp_path / "unused"
    for n, fraction in enumerate((0.2, 0.45, 0.7, 0.85, 1.0)):
        delay = fraction * full_run
        index_dir = tmp_path / f"index{n}"
        build([CORPUS], index_dir)
        old_generation = current_generation(index_dir)
        before = fresh_answers(index_dir)
        proc = start(["index", *map(str, large_corpus), "--index", str(index_dir), "--model", "hashing", "--quiet"])
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        index = load_generation(index_dir)  # never IndexProblem
        assert index is not None
        if index.generation == old_generation:
            assert fresh_answers(index_dir) == before
            outcomes.append("old")
        else:
            assert len(index.documents) > 400, "a new generation is complete"
            outcomes.append("new")
    print(f"\nkilled at 20-100 % of a {full_run:.1f} s run: {outcomes}")
    assert "old" in outcomes, outcomes
    complete_run(large_corpus, index_dir)
    assert_clean(index_dir)


def test_a_full_disk_mid_write_leaves_the_old_index_and_no_leftovers(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from rag.lexical import LexicalIndex

    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    old_generation = current_generation(index_dir)
    before = fresh_answers(index_dir)

    def disk_full(self: LexicalIndex, directory: Path) -> None:
        (directory / "partial").parent.mkdir(parents=True, exist_ok=True)
        (directory / "partial").write_bytes(b"x" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(LexicalIndex, "save", disk_full)
    with pytest.raises(IndexProblem, match=r"kunne ikke skrives \(No space left on device\)\. "
                                           r"Det hidtidige indeks er uændret\."):
        build([CORPUS], index_dir)  # unchanged documents: only the writing is new
    assert assert_clean(index_dir) == old_generation
    assert fresh_answers(index_dir) == before


def test_an_index_path_that_is_a_file_is_a_one_line_error(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fil").write_text("ikke en mappe")
    for index_dir in (tmp_path / "fil", tmp_path / "fil" / "index"):
        assert main(["index", str(CORPUS), "--index", str(index_dir), "--model", "hashing", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"Fejl: Indeksmappen {index_dir} kan ikke bruges (") and err.count("\n") == 1, err


# ---------------------------------------------------------------------------
# Two builds at once


@pytest.mark.slow
def test_second_concurrent_index_run_refuses_with_a_clear_message(large_corpus: list[Path], tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    marker = tmp_path / "embedding"
    first = start(["index", *map(str, large_corpus), "--index", str(index_dir), "--model", "hashing", "--quiet"],
                  stage="embed", marker=marker, sleep=0.02)
    wait_for(marker.exists, first)  # the first run holds the lock and is embedding
    entries = sorted(p.name for p in index_dir.iterdir())

    second = subprocess.run([*rag_command(), "index", str(CORPUS), "--index", str(index_dir), "--model", "hashing",
                             "--quiet"], capture_output=True, text=True, timeout=120)
    assert second.returncode == 2
    assert second.stderr == (f"Fejl: Et andet 'rag index' skriver allerede til {index_dir}. "
                             "Vent til det er færdigt, og prøv igen.\n")
    assert second.stdout == ""
    assert first.poll() is None, "the first run must still have been running"
    assert sorted(p.name for p in index_dir.iterdir()) == entries, "the refused run wrote nothing"

    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert_clean(index_dir)
    index = load_generation(index_dir)
    assert index is not None and len(index.documents) > 400


def test_build_index_refuses_while_the_lock_is_held(tmp_path: Path) -> None:
    from filelock import FileLock

    index_dir = tmp_path / "index"
    index_dir.mkdir()
    with FileLock(str(index_dir / LOCK)), pytest.raises(IndexProblem, match="Et andet 'rag index' skriver allerede"):
        build([CORPUS], index_dir)
    assert current_generation(index_dir) is None
    build([CORPUS], index_dir)  # released: works


# ---------------------------------------------------------------------------
# Readers during a rebuild


class GatedEmbedder(HashingEmbedder):
    """The hashing embedder, but embedding waits until the test lets it go on."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.proceed = threading.Event()

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.started.set()
        assert self.proceed.wait(60), "the test never released the build"
        return super().embed_passages(texts, progress)


def test_readers_keep_the_old_index_during_a_rebuild_and_then_switch(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([corpus_copy], index_dir)
    old_generation = current_generation(index_dir)
    question = "zebrastriber og flodheste i Folketinget"
    settings = Settings(index_dir=index_dir)
    before = fingerprint(ask(question, settings=settings))
    assert before and "zebra.txt" not in {f for f, *_ in before}
    (corpus_copy / "zebra.txt").write_text("Et notat om zebrastriber og flodheste i Folketinget.\n",
                                           encoding="utf-8")

    seen: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:  # another user of the running app, asking all the time
        while not stop.is_set():
            try:
                answer = ask(question, settings=settings)
                seen.append(rag.answer.open_index(index_dir).generation)
                assert answer.hits
            except BaseException as exc:  # noqa: BLE001 - collected for the main thread
                errors.append(exc)
                return

    embedder = GatedEmbedder()
    summaries = []
    builder = threading.Thread(target=lambda: summaries.append(
        build_index([corpus_copy], index_dir, embedder, "hashing", progress=False)))
    readers = [threading.Thread(target=reader) for _ in range(2)]
    builder.start()
    for r in readers:
        r.start()
    try:
        assert embedder.started.wait(30)
        # Mid-build: the old index answers, unchanged.
        assert fingerprint(ask(question, settings=settings)) == before
        assert current_generation(index_dir) == old_generation
        _wait_until(lambda: len(seen) >= 4 or bool(errors))  # the readers are answering mid-build
        embedder.proceed.set()
        builder.join(60)
        assert not builder.is_alive() and summaries
        _wait_until(lambda: seen[-1] == summaries[0].generation or bool(errors))  # readers go on across the swap
    finally:
        embedder.proceed.set()
        stop.set()
        for r in readers:
            r.join(30)
    assert not errors, errors
    new_generation = summaries[0].generation
    assert new_generation != old_generation
    # Each reader saw the old generation, then the new one, and nothing else.
    assert set(seen) <= {old_generation, new_generation} and seen[0] == old_generation, set(seen)
    assert seen[-1] == new_generation
    after = ask(question, settings=settings)
    assert after.hits[0].document.file == "zebra.txt"
    assert rag.answer.open_index(index_dir).generation == new_generation


def _wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_reader_loading_while_the_generation_is_swapped_gets_the_new_one(corpus_copy: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """CURRENT changes (and the old generation is deleted) between reading CURRENT and loading its files."""
    import rag.store

    index_dir = tmp_path / "index"
    build([corpus_copy], index_dir)
    (corpus_copy / "ny.txt").write_text("Et nyt notat om flodheste.", encoding="utf-8")
    original = rag.store._load_named
    calls = []

    def load_during_swap(directory: Path, name: str):  # type: ignore[no-untyped-def]
        if not calls:
            calls.append(name)
            build([corpus_copy], index_dir)  # swaps CURRENT and removes generation `name`
        return original(directory, name)

    monkeypatch.setattr(rag.store, "_load_named", load_during_swap)
    index = load_generation(index_dir)
    assert index is not None and "ny.txt" in index.documents and index.generation != calls[0]


# ---------------------------------------------------------------------------
# Damaged index files


def _generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / CURRENT).read_text().strip()


def _fix_sizes(gen: Path) -> None:
    """Make the manifest's file sizes agree again, so that the deeper checks are reached."""
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["files"] = {p.relative_to(gen).as_posix(): p.stat().st_size for p in sorted(gen.rglob("*"))
                         if p.is_file() and p.name != "manifest.json"}
    (gen / "manifest.json").write_text(json.dumps(manifest))


def _edit_manifest(edit: Callable[[dict], object]) -> Callable[[Path], None]:  # type: ignore[type-arg]
    def corrupt(gen: Path) -> None:
        manifest = json.loads((gen / "manifest.json").read_text())
        edit(manifest)
        (gen / "manifest.json").write_text(json.dumps(manifest))
    return corrupt


def _manifest_a_list(gen: Path) -> None:
    (gen / "manifest.json").write_text("[" + (gen / "manifest.json").read_text() + "]")


def _garbage_same_size(name: str) -> Callable[[Path], None]:
    def corrupt(gen: Path) -> None:
        size = (gen / name).stat().st_size
        (gen / name).write_bytes(random.Random(0).randbytes(size))
    return corrupt


def _faiss_of_other_dimension(gen: Path) -> None:
    import faiss

    faiss.write_index(faiss.IndexFlatIP(8), str(gen / "dense.faiss"))
    _fix_sizes(gen)


def _vectors_with_rows_missing(gen: Path) -> None:
    vectors = np.load(gen / "vectors.npy")
    np.save(gen / "vectors.npy", vectors[:-3])
    _fix_sizes(gen)


def _passage_out_of_its_document(gen: Path) -> None:
    lines = (gen / "passages.jsonl").read_text().splitlines()
    row = json.loads(lines[0])
    row["end"] = 10**9
    lines[0] = json.dumps(row)
    (gen / "passages.jsonl").write_text("\n".join(lines) + "\n")
    _fix_sizes(gen)


def _passage_of_an_unknown_document(gen: Path) -> None:
    lines = (gen / "passages.jsonl").read_text().splitlines()
    lines[0] = lines[0].replace(json.loads(lines[0])["file"], "ukendt.txt")
    (gen / "passages.jsonl").write_text("\n".join(lines) + "\n")
    _fix_sizes(gen)


def _documents_line_garbled(gen: Path) -> None:
    text = (gen / "documents.jsonl").read_text()
    (gen / "documents.jsonl").write_text("{ikke json\n" + text.split("\n", 1)[1])
    _fix_sizes(gen)


def _write_current(content: bytes) -> Callable[[Path], None]:
    def corrupt(gen: Path) -> None:
        (gen.parent / CURRENT).write_bytes(content)
    return corrupt


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "vectors.npy garbage, same size": _garbage_same_size("vectors.npy"),
    "vectors.npy rows missing (sizes fixed up)": _vectors_with_rows_missing,
    "vectors.npy deleted": lambda gen: (gen / "vectors.npy").unlink(),
    "dense.faiss garbage, same size": _garbage_same_size("dense.faiss"),
    "dense.faiss truncated": lambda gen: (gen / "dense.faiss").write_bytes((gen / "dense.faiss").read_bytes()[:99]),
    "dense.faiss of another dimension": _faiss_of_other_dimension,
    "passages.jsonl deleted": lambda gen: (gen / "passages.jsonl").unlink(),
    "passages.jsonl past its document": _passage_out_of_its_document,
    "passages.jsonl names an unknown document": _passage_of_an_unknown_document,
    "documents.jsonl garbled line": _documents_line_garbled,
    "lexical/ emptied": lambda gen: [p.unlink() for p in (gen / "lexical").iterdir()],
    "manifest.json truncated": lambda gen: (gen / "manifest.json").write_text(
        (gen / "manifest.json").read_text()[:200]),
    "manifest.json deleted": lambda gen: (gen / "manifest.json").unlink(),
    "manifest.json a list": _manifest_a_list,
    "manifest.json passage count edited": _edit_manifest(lambda m: m["counts"].update(passages=1)),
    "manifest.json file size edited": _edit_manifest(lambda m: m["files"].update({"passages.jsonl": 1})),
    "manifest.json files not a mapping": _edit_manifest(lambda m: m.update(files=[1, 2])),
    "manifest.json model removed": _edit_manifest(lambda m: m.pop("model")),
    "manifest.json format version removed": _edit_manifest(lambda m: m.pop("format_version")),
    "generation folder deleted": lambda gen: shutil.rmtree(gen),
    "CURRENT binary garbage": _write_current(b"\xff\xfe\x00\x01"),
    "CURRENT points outside": _write_current(b"../../etc\n"),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_damaged_index_says_rebuild_and_rag_index_repairs_it(corrupt: Callable[[Path], None], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    corrupt(_generation(index_dir))
    rebuild = f"rag index corpus/ --index {index_dir}"

    with pytest.raises(IndexProblem) as problem:
        load_generation(index_dir)
    message = str(problem.value)
    assert "\n" not in message and "beskadiget" in message and rebuild in message, message

    rag.answer._indexes.pop(index_dir.resolve(), None)
    with pytest.raises(AskError) as refused:
        ask("plejefamilier", settings=Settings(index_dir=index_dir))
    assert str(refused.value) == message

    assert main(["ask", "plejefamilier", "--index", str(index_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"Fejl: {message}\n" and captured.out == ""

    # `rag index` does not trip over the damage: it builds afresh and removes the damaged generation.
    assert main(["index", str(CORPUS), "--index", str(index_dir), "--model", "hashing", "--quiet"]) == 0
    capsys.readouterr()
    assert_clean(index_dir)
    rag.answer._indexes.pop(index_dir.resolve(), None)
    assert ask("plejefamilier", settings=Settings(index_dir=index_dir)).hits


def test_damaged_faiss_file_is_a_message_in_a_fresh_process_too(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    _garbage_same_size("dense.faiss")(_generation(index_dir))
    result = subprocess.run([*rag_command(), "ask", "plejefamilier", "--index", str(index_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Fejl: Indekset i {index_dir} er beskadiget"), result.stderr
    assert "rag index corpus/" in lines[0]


def test_a_running_app_keeps_answering_when_the_index_on_disk_is_damaged(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    settings = Settings(index_dir=index_dir)
    before = fingerprint(ask("plejefamilier", settings=settings))
    (index_dir / CURRENT).write_bytes(b"\xff\xfe")  # CURRENT unreadable: keep the index in memory
    assert fingerprint(ask("plejefamilier", settings=settings)) == before
    shutil.rmtree(_generation_dir_of(index_dir))
    (index_dir / CURRENT).write_text("gen-20990101T000000000000-1\n")  # a generation that is not there
    assert fingerprint(ask("plejefamilier", settings=settings)) == before


def _generation_dir_of(index_dir: Path) -> Path:
    return next(p for p in index_dir.iterdir() if p.name.startswith("gen-"))
