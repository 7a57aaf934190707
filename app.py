"""Start the web UI: `python app.py` (the same as `rag serve`).

Opens a Gradio chat on http://127.0.0.1:7860 (or the next free port) over the
index in index/, building it from corpus/ on first start. Ask in Danish; the
reply quotes the ministers' answers verbatim, each with its citation.

    python app.py                                 # only this machine
    python app.py --host 0.0.0.0 --auth anna:pw   # the network, with a login (or RAG_AUTH=anna:pw)

The page itself is built in rag/web/app.py and rendered by rag/web/render.py.
"""

from __future__ import annotations

import os
import sys

# Before gradio is imported anywhere: no telemetry, no version check.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from rag.web.serve import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
