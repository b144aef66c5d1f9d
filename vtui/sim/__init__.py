"""The simulated world behind `vtui --demo` and the tests, and the vLLM simulator program.

Standard library only: `python3 -m vtui.sim.vllm_server` must run inside a bare
Debian python3 container with nothing installed.
"""
