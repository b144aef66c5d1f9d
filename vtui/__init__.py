"""vtui: serve a model with vLLM from one terminal screen.

This package's top level imports nothing heavy: `vtui --help` and the vLLM
simulator (which runs inside a bare python3 container) depend on that.
"""

__version__ = "0.1.0"
