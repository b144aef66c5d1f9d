# The vLLM simulator in a container, for engine tests: no registry is reachable, so the base
# is a local debootstrap image (scripts/test-engine.sh makes it) with nothing but python3.
FROM vtui-test/debian-python3:bookworm
COPY vtui /opt/vtui/vtui
# huggingface_hub and httpx, as a vLLM image has them (scripts/test-engine.sh installs them).
COPY build/sim-site /usr/local/lib/python3.11/dist-packages/
# nvidia-smi as the NVIDIA runtime would put it in a vLLM container, answering with bytes
# recorded on a real H200 (tests/data/nvidia-smi), for the remote-host GPU tests.
COPY tests/data/nvidia-smi/fake-nvidia-smi /usr/local/bin/nvidia-smi
COPY tests/data/nvidia-smi/*.csv tests/data/nvidia-smi/smi-L.txt /usr/local/bin/nvidia-smi-data/
# `ray` and `vllm` on PATH, as a vLLM image has them, so vLLM's multi-node recipes (a
# LeaderWorkerSet's commands, run_cluster.sh) run unchanged against the simulator.
RUN printf '#!/bin/sh\nexec python3 -m vtui.sim.ray_node "$@"\n' >/usr/local/bin/ray \
    && printf '#!/bin/sh\nexec python3 -m vtui.sim.vllm_server "$@"\n' >/usr/local/bin/vllm \
    && chmod 755 /usr/local/bin/ray /usr/local/bin/vllm
ENV PYTHONPATH=/opt/vtui PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
EXPOSE 8000
ENTRYPOINT ["python3", "-m", "vtui.sim.vllm_server"]
CMD ["--model", "Qwen/Qwen2.5-7B-Instruct"]
