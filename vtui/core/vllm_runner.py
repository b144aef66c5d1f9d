"""Which vLLM release's accounting an estimate follows, and which model runner it runs.

vLLM 0.26 runs most models on "Model Runner V2" (vllm/config/vllm.py, use_v2_model_runner):
every generating model that is neither hybrid (Mamba / linear-attention state layers) nor
attention-free, and of mixture-of-experts models only DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES.
V2 measures a smaller activation peak and sets nothing aside for CUDA graphs before the KV
cache is sized (they are captured afterwards, on top of the budget). Those constants were
fitted to 11 real 0.26.0 starts on an H200 (tests/data/fit_rows.json). For any other
release the accounting of the pinned one (VLLM_VERSION) is used, and the estimate says so.
"""

from __future__ import annotations

from vtui.core.model_shape import ModelShape
from vtui.core.vllm_release import VLLM_VERSION

MEASURED_RELEASE = "0.26.0"  # the release whose runner choice and figures were measured
# vLLM 0.26.0, vllm/config/vllm.py: mixture-of-experts architectures V2 runs by default.
V2_MOE_ARCHITECTURES = frozenset(
    {
        "DeepseekV2ForCausalLM",
        "GraniteMoeForCausalLM",
        "InklingForCausalLM",
        "InklingForConditionalGeneration",
        "LongcatFlashNgramForCausalLM",
        "Qwen2MoeForCausalLM",
    }
)
V1, V2 = "V1", "V2"


def accounting_for(version: str | None) -> str:
    """The release whose accounting applies: the measured one when asked for, else the
    pinned one (whatever `version` says; the caller says "accounting of X used")."""
    return MEASURED_RELEASE if version == MEASURED_RELEASE else VLLM_VERSION


def model_runner(model: ModelShape, accounting: str) -> str:
    """V2 where vLLM 0.26 picks it by default; V1 for the pinned release's accounting."""
    if accounting != MEASURED_RELEASE:
        return V1
    if model.kv is not None and model.kv.state_layers:
        return V1  # hybrid: Mamba or linear-attention state
    if model.experts and model.architecture not in V2_MOE_ARCHITECTURES:
        return V1
    return V2
