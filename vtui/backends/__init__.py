"""Backends: each talks to one real system behind a small interface.

Every interface has a real implementation (Docker Engine, the Hugging Face Hub,
NVML, the vLLM HTTP endpoint) and a simulated one for `--demo` and tests.
Real implementations import their client library on first use, not at import
time, so vtui starts fast. All methods block: the UI calls them from workers.
"""
