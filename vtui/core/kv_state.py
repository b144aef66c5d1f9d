"""The fixed per-request state of linear-attention and Mamba layers, sized as vLLM sizes it.

Hybrid models (Qwen3-Next and Qwen3.5 with Gated DeltaNet layers; Nemotron-H and
Granite 4 with Mamba-2 layers) keep, per request and per such layer, a convolution
state and a recurrent ("temporal") state whose size does not grow with the context.
Shapes follow vLLM 0.33.0's MambaStateShapeCalculator
(vllm/model_executor/layers/mamba/mamba_utils.py): gated_delta_net_state_shape and
mamba2_state_shape. The conv state is stored in the model's dtype; the recurrent state
too, unless the model asks for float32 (Nemotron-H by default, Qwen3.5 through its
config's mamba_ssm_dtype; vllm/model_executor/models/config.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vtui.core.numbers import whole_number

_SSM_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


class UnknownLayout(ValueError):
    """The config does not say enough, or describes a layout not modelled; names what."""


class StateKind(StrEnum):
    GATED_DELTA_NET = "Gated DeltaNet"
    MAMBA2 = "Mamba-2"


@dataclass(frozen=True)
class RecurrentState:
    """One state layer's dimensions before tensor parallelism splits them."""

    kind: StateKind
    conv_channels: int  # GDN: 2 x keys + values; Mamba-2: the intermediate width
    conv_kernel: int
    heads: int  # recurrent-state heads, split across ranks
    head_elements: int  # per head: key dim x value dim, or head dim x state size
    groups: int = 0  # Mamba-2 B/C groups, widened to the TP size when they do not divide
    state_size: int = 0  # Mamba-2 only
    ssm_bytes: int | None = None  # None: the model's dtype

    def bytes_per_request(self, *, tensor_parallel: int = 1, model_dtype_bytes: int = 2) -> int:
        """One layer's state for one request on one GPU."""
        tp = max(1, tensor_parallel)
        channels = self.conv_channels
        if self.kind is StateKind.MAMBA2:
            groups = self.groups if self.groups % tp == 0 else tp
            channels += 2 * groups * self.state_size
        conv = channels // tp * (self.conv_kernel - 1) * model_dtype_bytes
        temporal = self.heads // tp * self.head_elements * (self.ssm_bytes or model_dtype_bytes)
        return conv + temporal


def _ssm_bytes(source: dict[str, Any], key: str, default: str | None) -> int | None:
    name = source.get(key) or default
    return _SSM_DTYPE_BYTES.get(str(name)) if name else None


def required_int(source: dict[str, Any], name: str) -> int:
    """A positive integer field of config.json, or UnknownLayout naming the field."""
    value = source.get(name)
    if not whole_number(value) or value <= 0:
        raise UnknownLayout(f"config.json has no usable {name}")
    return value


def recurrent_state(source: dict[str, Any]) -> RecurrentState:
    """The state layers' dimensions, for the configs vLLM 0.33 reads them from."""
    if "linear_num_value_heads" in source:
        keys = required_int(source, "linear_num_key_heads")
        values = required_int(source, "linear_num_value_heads")
        key_dim = required_int(source, "linear_key_head_dim")
        value_dim = required_int(source, "linear_value_head_dim")
        return RecurrentState(
            StateKind.GATED_DELTA_NET,
            conv_channels=2 * keys * key_dim + values * value_dim,
            conv_kernel=required_int(source, "linear_conv_kernel_dim"),
            heads=values,
            head_elements=key_dim * value_dim,
            ssm_bytes=_ssm_bytes(source, "mamba_ssm_dtype", None),
        )
    if "mamba_num_heads" in source:  # Nemotron-H
        heads = required_int(source, "mamba_num_heads")
        head_dim = required_int(source, "mamba_head_dim")
        state_size = required_int(source, "ssm_state_size")
        return RecurrentState(
            StateKind.MAMBA2,
            conv_channels=heads * head_dim,
            conv_kernel=required_int(source, "conv_kernel"),
            heads=heads,
            head_elements=head_dim * state_size,
            groups=required_int(source, "n_groups"),
            state_size=state_size,
            ssm_bytes=_ssm_bytes(source, "mamba_ssm_cache_dtype", "float32"),
        )
    if "mamba_n_heads" in source:  # Granite 4 (GraniteMoeHybrid)
        heads = required_int(source, "mamba_n_heads")
        head_dim = required_int(source, "mamba_d_head")
        state_size = required_int(source, "mamba_d_state")
        expand = source.get("mamba_expand") or 2
        return RecurrentState(
            StateKind.MAMBA2,
            conv_channels=int(expand * required_int(source, "hidden_size")),
            conv_kernel=required_int(source, "mamba_d_conv"),
            heads=heads,
            head_elements=head_dim * state_size,
            groups=required_int(source, "mamba_n_groups"),
            state_size=state_size,
        )
    raise UnknownLayout("this model's Mamba / linear-attention layers are not modelled yet")
