"""The pure core: facts and decisions about vLLM deployments, with no I/O and no UI.

Nothing under vtui.core may import Textual, docker, httpx, huggingface_hub or
pynvml, or touch files, sockets or processes (tests/test_layers.py checks it).
"""
