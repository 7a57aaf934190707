"""Files in, `Document`s out: walk folders and sidecars (walk), read each format (load, decode, pdf,
docx, html), and parse the text (parse: the § 20 parser s20, the letter parser letter, plain text).
May import rag.records, rag.text, rag.config and rag.errors only.
"""
