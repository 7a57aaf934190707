"""The `rag` command: help texts, a light start, one-line errors with exit 2, the JSON shape."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, REPO

from rag.cli import build_parser, main

HEAVY = ("torch", "faiss", "gradio", "sentence_transformers", "transformers")


def _rag() -> list[str]:
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag.cli"]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, tuple[str | None, argparse.ArgumentParser]]:
    """name -> (help shown in `rag --help`, subparser)."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    return {name: (helps.get(name), sub) for name, sub in action.choices.items()}


def test_every_subcommand_and_option_has_help_text() -> None:
    subcommands = _subcommands(build_parser())
    assert {"index", "ask", "eval", "serve"} <= set(subcommands)
    for name, (help_text, sub) in subcommands.items():
        assert help_text and help_text.strip(), f"'rag {name}' has no help line in 'rag --help'"
        assert sub.description, f"'rag {name} --help' has no description"
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help.strip(), f"'rag {name}': {action.option_strings or action.dest} " \
                                                        "has no help text"


@pytest.mark.parametrize("argv", [["--help"], ["index", "--help"], ["ask", "--help"], ["eval", "--help"],
                                  ["serve", "--help"]])
def test_help_prints_and_exits_0(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: rag"), out


def test_import_and_help_do_not_load_torch_faiss_or_gradio() -> None:
    code = f"""
import json, sys
import rag
rag.ask, rag.Answer  # the lazy attributes load rag.answer and rag.records, nothing heavy
from rag.cli import main
for argv in (["--help"], ["index", "--help"], ["ask", "--help"], ["serve", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"'import rag' / 'rag --help' imported {loaded}"


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert lines[0].startswith("Fejl: "), lines[0]
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("args, expected", [
    (["ask", ""], "tomt"),
    (["ask", "   "], "tomt"),
    (["ask", "kvalitetsramme", "-k", "0"], "mindst 1"),
    (["ask", "?!…"], "ingen ord"),
])
def test_ask_usage_errors_are_one_line_and_exit_2(hashing_index: Path, args: list[str], expected: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*args, "--index", str(hashing_index)]) == 2
    captured = capsys.readouterr()
    assert expected in _one_error_line(captured.err)
    assert captured.out == ""


def test_ask_without_an_index_says_how_to_build_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "kvalitetsramme", "--index", str(tmp_path / "nowhere")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "intet indeks" in line and "rag index" in line


def test_exit_codes_and_messages_hold_for_the_installed_command(tmp_path: Path) -> None:
    result = subprocess.run([*_rag(), "ask", "", "--index", str(tmp_path / "nowhere")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "tomt" in _one_error_line(result.stderr)
    result = subprocess.run([*_rag(), "ask", "kvalitetsramme", "--index", str(tmp_path / "nowhere")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "intet indeks" in _one_error_line(result.stderr)


def test_ask_json_has_question_and_hits_with_source_fields(hashing_index: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Hvor mange kommuner fik penge fra puljen?", "--json", "-k", "3",
                 "--index", str(hashing_index)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == "Hvor mange kommuner fik penge fra puljen?"
    assert {"question", "abstained", "message", "hits"} <= set(data)
    assert 1 <= len(data["hits"]) <= 3
    docs = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")}
    for hit in data["hits"]:
        assert {"file", "text", "start", "end", "score", "citation", "document"} <= set(hit)
        assert isinstance(hit["score"], float) and hit["citation"]
        assert hit["document"]["file"] == hit["file"]
        # The quote is verbatim: the characters start:end of the source file.
        assert docs[hit["file"]][hit["start"]:hit["end"]] == hit["text"]


def test_ask_with_a_command_line_that_is_not_utf8(hashing_index: Path) -> None:
    # A Latin-1 terminal passes bytes Python cannot decode; they must not crash the tokenizer or JSON.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([*_rag(), "ask", b"plejefamilie \xe6ndring".decode("utf-8", "surrogateescape"),
                             "--json", "--index", str(hashing_index)], capture_output=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    data = json.loads(result.stdout.decode("utf-8"))
    assert data["question"] == "plejefamilie \ufffdndring" and data["hits"]


def test_index_of_a_missing_folder_fails_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(tmp_path / "ingen"), "--index", str(tmp_path / "index"), "--model", "hashing",
                 "--quiet"]) == 1
    captured = capsys.readouterr()
    assert f"  {tmp_path / 'ingen'}: findes ikke" in captured.out.splitlines()
    assert _one_error_line(captured.err) == "Fejl: intet dokument kunne indekseres."
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_eval_with_a_missing_file_is_one_line(hashing_index: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path / "ingen.jsonl"), "--index", str(hashing_index)]) == 2
    assert "kunne ikke læses" in _one_error_line(capsys.readouterr().err)


def test_eval_reports_one_half_and_the_self_questions(hashing_index: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"question": "puljen til kommuner med mange børnesager", "gold_file": "002_95e6a3818805a982.txt",
             "gold_quote": "", "set": "seed", "split": "tune"},
            {"question": "plejefamilier og kvalitetsrammen", "gold_file": "000_34fc68001cd04834.txt",
             "gold_quote": "", "set": "seed", "split": "test"}]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert main(["eval", str(questions), "--index", str(hashing_index), "--split", "test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["questions"] == 1
    assert main(["eval-self", "--index", str(hashing_index), "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "| overall | 3 |" in out and "| tærskel |" in out
