"""FLOP counting helpers on top of fvcore (attention included).

fvcore counts one fused multiply-add as one flop (so its "FLOPs" are MACs) and, out of the box,
counts ``aten::scaled_dot_product_attention`` as zero. :func:`sdpa_flop_jit` adds it with the
same convention: ``Q K^T`` costs ``B * H * L * S * E`` and ``softmax(.) V`` costs
``B * H * L * S * Ev`` (softmax, scaling and masking are not counted, like every other
element-wise op in fvcore).
"""

import math
from typing import Any, List, Sequence, Tuple

import torch
from fvcore.nn import FlopCountAnalysis
from fvcore.nn.jit_handles import get_shape
from torch import nn

SDPA_OP = 'aten::scaled_dot_product_attention'


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """fvcore op handle for ``aten::scaled_dot_product_attention``.

    Args:
        inputs (list): Traced inputs; the first three are query ``(..., L, E)``, key
            ``(..., S, E)`` and value ``(..., S, Ev)``.
        outputs (list): Traced outputs (unused).

    Returns:
        int: ``prod(batch dims of q) * L * S * (E + Ev)`` multiply-adds.
    """
    q, k, v = (get_shape(x) for x in inputs[:3])
    if q is None or k is None or v is None:
        raise ValueError('holaframe/utils/flops.py: scaled_dot_product_attention inputs have '
                         'no static shape in the trace.')
    batch = math.prod(q[:-2])
    length, embed = q[-2], q[-1]
    source, value_dim = k[-2], v[-1]
    return batch * length * source * (embed + value_dim)


def attention_flops(batch: int, num_heads: int, q_len: int, kv_len: int, head_dim: int,
                    value_dim: int = None) -> int:
    """Analytic multiply-adds of one attention call (same convention as :func:`sdpa_flop_jit`).

    Args:
        batch (int): Batch size.
        num_heads (int): Heads.
        q_len (int): Query tokens L.
        kv_len (int): Key/value tokens S.
        head_dim (int): Query/key width per head E.
        value_dim (int, optional): Value width per head; defaults to ``head_dim``.

    Returns:
        int: Multiply-adds.
    """
    value_dim = head_dim if value_dim is None else value_dim
    return batch * num_heads * q_len * kv_len * (head_dim + value_dim)


def flop_count_analysis(model: nn.Module, inputs: Tuple[Any, ...]) -> FlopCountAnalysis:
    """A :class:`fvcore.nn.FlopCountAnalysis` that also counts scaled-dot-product attention.

    Args:
        model (nn.Module): Model to trace (put it in eval mode first).
        inputs (tuple): Positional inputs of ``model.forward``.

    Returns:
        FlopCountAnalysis: With the SDPA handle set and fvcore's per-op warnings silenced
        (see ``unsupported_ops()`` for what was skipped).
    """
    analysis = FlopCountAnalysis(model, inputs)
    analysis.set_op_handle(SDPA_OP, sdpa_flop_jit)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return analysis


def dummy_inputs(shapes: Sequence[Sequence[int]], batch_size: int = 1,
                 device: torch.device = None) -> List[torch.Tensor]:
    """Standard-normal dummy tensors ``(batch_size, *shape)`` for each shape.

    Args:
        shapes (Sequence[Sequence[int]]): Per-sample shapes.
        batch_size (int): Batch size. Defaults to 1.
        device (torch.device, optional): Device of the tensors.

    Returns:
        list[Tensor]: One tensor per shape.
    """
    gen = torch.Generator().manual_seed(0)
    return [torch.randn((batch_size, *shape), generator=gen).to(device) for shape in shapes]
