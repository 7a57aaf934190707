"""The web UI: the Gradio chat page (app), its HTML (render), who may connect (access), starting the
server (serve), and its CSS/JS (assets/). May import only what `rag` exports, plus rag.config and rag.text.
"""
