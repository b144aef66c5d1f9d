"""How vLLM 0.33.0 shares one pool of KV-cache blocks among a model's kinds of layer,
and what one request of max_model_len takes from it.

- Grouping (vllm/v1/core/kv_cache_planning.py, _get_kv_cache_groups_uniform_page_size):
  layers of one kind (full attention, sliding window, Mamba / linear-attention state)
  are cut into groups of equal size, the smallest kind's count (or the largest, when it
  is under 1.5 times the smallest); every group draws block ids from one shared pool, and
  one block id holds a page for each layer of its group.
- Pages (vllm/platforms/interface.py, _align_hybrid_block_size): with state layers the
  attention block grows, in steps of 16 tokens, until one attention page holds a layer's
  whole state; state pages are padded to that size.
- A request (kv_cache_interface.py, max_memory_usage_bytes; kv_cache_utils.py,
  get_max_concurrency_for_kv_cache_config) takes, per group: full attention, a block per
  16 tokens of max_model_len; sliding window, the window less one plus the tokens still
  in flight, plus one block; state, 1 block, or with prefix caching (mamba_cache_mode
  "align") 2, and 3 for Mamba-2, which also keeps a prefill checkpoint.
- vLLM reports "GPU KV cache size" as max concurrency x max_model_len, so for a hybrid
  model it is not a count of stored tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vtui.core.kv_cache import BLOCK_SIZE, KvLayout, UnknownLayout, layer_bytes_per_token
from vtui.core.kv_state import StateKind


@dataclass(frozen=True)
class KvPlan:
    block_tokens: int
    block_bytes: int  # one block id of the shared pool: a page for each layer of a group
    full_groups: int
    sliding_groups: int = 0
    sliding_window: int = 0
    state_groups: int = 0
    state_blocks: int = 0  # blocks each state group keeps per request

    def blocks_per_request(self, max_len: int, in_flight_tokens: int) -> int:
        full = math.ceil(max_len / self.block_tokens) * self.full_groups
        window = min(self.sliding_window - 1 + in_flight_tokens, max_len)
        sliding = (math.ceil(window / self.block_tokens) + 1) * self.sliding_groups
        return full + sliding + self.state_groups * self.state_blocks

    def request_bytes(self, max_len: int, in_flight_tokens: int) -> int:
        return self.blocks_per_request(max_len, in_flight_tokens) * self.block_bytes

    def blocks(self, available_bytes: float) -> int:
        return max(0, int(available_bytes // self.block_bytes))

    def concurrency(self, available_bytes: float, max_len: int, in_flight_tokens: int) -> float:
        """Requests of max_len the pool holds at once, as vLLM logs it."""
        return self.blocks(available_bytes) / self.blocks_per_request(max_len, in_flight_tokens)

    def reported_tokens(self, available_bytes: float, max_len: int, in_flight_tokens: int) -> int:
        """vLLM's "GPU KV cache size": concurrency x max_model_len."""
        return int(self.concurrency(available_bytes, max_len, in_flight_tokens) * max_len)

    def longest_request(self, available_bytes: float, in_flight_tokens: int) -> int:
        """The longest max_model_len one request fits in (vLLM searches the same way,
        kv_cache_planning.estimate_max_model_len); 0 when not even one block fits."""
        blocks = self.blocks(available_bytes)
        low, high = 0, 1 << 24
        while low < high:
            middle = (low + high + 1) // 2
            if self.blocks_per_request(middle, in_flight_tokens) <= blocks:
                low = middle
            else:
                high = middle - 1
        return low


def plan(
    kv: KvLayout,
    *,
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
    dtype_bytes: int = 2,
    model_dtype_bytes: int = 2,
    prefix_caching: bool = True,
) -> KvPlan:
    """The block pool's shape on one GPU (the most loaded pipeline stage)."""
    if kv.layers <= 0:
        raise UnknownLayout("no attention layers: attention-free models are not modelled yet")
    stage = max(1, pipeline_parallel)
    counts = {
        kind: math.ceil(count / stage)
        for kind, count in (
            ("full", kv.full_layers),
            ("sliding", kv.sliding_layers),
            ("state", kv.state_layers),
        )
        if count
    }
    token_bytes = layer_bytes_per_token(
        kv, tensor_parallel=tensor_parallel, dtype_bytes=dtype_bytes
    )
    block_tokens = BLOCK_SIZE
    state_blocks = 0
    if kv.state is not None:
        state_bytes = kv.state.bytes_per_request(
            tensor_parallel=tensor_parallel, model_dtype_bytes=model_dtype_bytes
        )
        block_tokens = BLOCK_SIZE * math.ceil(state_bytes / (BLOCK_SIZE * token_bytes))
        checkpoint = 1 if kv.state.kind is StateKind.MAMBA2 else 0
        state_blocks = 2 + checkpoint if prefix_caching else 1
    smallest, largest = min(counts.values()), max(counts.values())
    group_size = largest if largest < smallest * 1.5 else smallest
    groups = {kind: math.ceil(count / group_size) for kind, count in counts.items()}
    return KvPlan(
        block_tokens=block_tokens,
        block_bytes=block_tokens * token_bytes * group_size,
        full_groups=groups.get("full", 0),
        sliding_groups=groups.get("sliding", 0),
        sliding_window=kv.sliding_window,
        state_groups=groups.get("state", 0),
        state_blocks=state_blocks,
    )
