# The vLLM simulator in a container, for engine tests: no registry is reachable, so the base
# is a local debootstrap image (scripts/test-engine.sh makes it) with nothing but python3.
FROM vtui-test/debian-python3:bookworm
COPY vtui /opt/vtui/vtui
ENV PYTHONPATH=/opt/vtui PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
EXPOSE 8000
ENTRYPOINT ["python3", "-m", "vtui.sim.vllm_server"]
CMD ["--model", "Qwen/Qwen2.5-7B-Instruct"]
