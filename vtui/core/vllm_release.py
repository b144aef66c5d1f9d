"""The one vLLM release vtui targets: the image tag and the simulator's version follow it."""

VLLM_VERSION = "0.33.0"  # tests/test_vllm_args.py checks the catalogue is from this release
VLLM_IMAGE = "vllm/vllm-openai"
DEFAULT_IMAGE = f"{VLLM_IMAGE}:v{VLLM_VERSION}"
# vLLM's OpenAI-compatible server listens here inside the container.
CONTAINER_PORT = 8000
# vLLM reads the key it demands from this variable when --api-key is not given.
API_KEY_VAR = "VLLM_API_KEY"
