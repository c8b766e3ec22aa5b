"""Opt-in int8 dynamic quantization of a detector for CPU inference.

:func:`quantize_dynamic_int8` replaces the ``nn.Linear`` layers of a model by
``torch.ao.nn.quantized.dynamic.Linear``: the weights are stored as int8 (per output channel,
symmetric), each input is quantized to uint8 on the fly with its own range, the product is an
int8 x uint8 matrix product (fbgemm / x86 engine) and the bias is added in fp32. Everything else
stays fp32: convolutions (patch embeddings, the neck), LayerNorm, GELU, the attention products
inside ``scaled_dot_product_attention``, and the data pre-processor.

The attention layers of :mod:`holaframe.models.layers` do not call their projections
``qkv`` / ``q`` / ``kv`` as modules: they pass ``self.qkv.weight`` to ``F.linear`` together with a
bias assembled from ``q_bias`` and ``v_bias`` (HiCMAE's layout), so a module swap alone would
break them (a quantized linear has no weight tensor). :class:`LinearAttention` and
:class:`LinearCrossAttention` are exact fp32 equivalents of :class:`Attention` and
:class:`CrossAttention` whose projections are plain ``nn.Linear`` modules with the bias folded
in; the function swaps them in first, so the attention projections are quantized too. A subclass
of either attention class (its forward may differ) keeps its projections in fp32.

``torch.ao.quantization`` is deprecated by PyTorch in favour of the ``torchao`` package; it
still works (checked with torch 2.13) but warns (``DeprecationWarning: torch.ao.quantization is
deprecated and will be removed in 2.10`` and ``UserWarning: torch.quantize_per_tensor ... are
deprecated``). The warnings are silenced here, only around the conversion.
"""

import copy
import warnings
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from holaframe.models.layers.attention import Attention
from holaframe.models.layers.cross_attention import CrossAttention

#: Quantized engines able to run ``quantized::linear_dynamic``, in order of preference.
INT8_ENGINES = ('x86', 'fbgemm', 'qnnpack')

#: Attribute set on a quantized model (``True``).
INT8_FLAG = '_holaframe_int8'


def _supported_engines() -> Sequence[str]:
    return list(torch.backends.quantized.supported_engines)


def _select_engine() -> str:
    """Keep the current quantized engine when usable, else switch
    ``torch.backends.quantized.engine`` (process-wide) to the first supported one."""
    supported = _supported_engines()
    current = torch.backends.quantized.engine
    if current in INT8_ENGINES and current in supported:
        return current
    for engine in INT8_ENGINES:
        if engine in supported:
            torch.backends.quantized.engine = engine
            return engine
    raise RuntimeError(
        f'int8 dynamic quantization needs one of the quantized engines {list(INT8_ENGINES)}, '
        f'but this PyTorch build supports {list(supported)}: run the fp32 model instead.')


def _refuse_training(module: nn.Module, args) -> None:
    if module.training:
        raise RuntimeError(
            'This model is int8 dynamically quantized (quantize_dynamic_int8): it is for '
            'inference only. Call model.eval(), or train the fp32 model.')


class LinearAttention(nn.Module):
    """:class:`Attention` with ``qkv`` as an ``nn.Linear`` whose bias is ``[q_bias, 0, v_bias]``.

    Same outputs as the original module (fp32), in eval mode; shares its ``proj`` module.
    """

    def __init__(self, attn: Attention) -> None:
        super().__init__()
        self.num_heads = attn.num_heads
        self.head_dim = attn.head_dim
        self.scale = attn.scale
        weight = attn.qkv.weight
        self.qkv = nn.Linear(weight.shape[1], weight.shape[0], bias=attn.q_bias is not None,
                             device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            self.qkv.weight.copy_(weight)
            if attn.q_bias is not None:
                self.qkv.bias.copy_(
                    torch.cat((attn.q_bias, torch.zeros_like(attn.v_bias), attn.v_bias)))
        self.proj = attn.proj
        self.proj_drop = attn.proj_drop
        self.train(attn.training)

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """See :meth:`Attention.forward` (no attention dropout: inference only)."""
        B, N, _ = x.shape
        q, k, v = (t.transpose(1, 2) for t in
                   self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).unbind(2))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, scale=self.scale)
        out = out.transpose(1, 2).reshape(B, N, -1)
        return self.proj_drop(self.proj(out))


class LinearCrossAttention(nn.Module):
    """:class:`CrossAttention` with ``q`` (bias ``q_bias``) and ``kv`` (bias ``[0, v_bias]``)
    as ``nn.Linear`` modules. Same outputs as the original module (fp32), in eval mode; shares
    its ``proj`` module."""

    def __init__(self, attn: CrossAttention) -> None:
        super().__init__()
        self.num_heads = attn.num_heads
        self.head_dim = attn.head_dim
        self.scale = attn.scale
        has_bias = attn.q_bias is not None
        self.q = self._linear(attn.q.weight, attn.q_bias if has_bias else None)
        self.kv = self._linear(
            attn.kv.weight,
            torch.cat((torch.zeros_like(attn.v_bias), attn.v_bias)) if has_bias else None)
        self.proj = attn.proj
        self.proj_drop = attn.proj_drop
        self.train(attn.training)

    @staticmethod
    def _linear(weight: torch.Tensor, bias: Optional[torch.Tensor]) -> nn.Linear:
        layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None,
                          device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(weight)
            if bias is not None:
                layer.bias.copy_(bias)
        return layer

    def forward(self,
                x: torch.Tensor,
                context: torch.Tensor,
                attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """See :meth:`CrossAttention.forward` (no attention dropout: inference only)."""
        B, N, _ = x.shape
        M = context.shape[1]
        q = self.q(x).reshape(B, N, self.num_heads, self.head_dim).transpose(1, 2)
        k, v = (t.transpose(1, 2) for t in
                self.kv(context).reshape(B, M, 2, self.num_heads, self.head_dim).unbind(2))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, scale=self.scale)
        out = out.transpose(1, 2).reshape(B, N, -1)
        return self.proj_drop(self.proj(out))


def _swap_attention(model: nn.Module) -> None:
    """Replace exact :class:`Attention` / :class:`CrossAttention` instances in place."""
    swaps = {Attention: LinearAttention, CrossAttention: LinearCrossAttention}
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            new_cls = swaps.get(type(child))
            if new_cls is not None:
                setattr(parent, name, new_cls(child))


def _check_cpu(model: nn.Module) -> None:
    devices = {t.device for t in list(model.parameters()) + list(model.buffers())}
    other = sorted(str(d) for d in devices if d.type != 'cpu')
    if other:
        raise ValueError(
            f'int8 dynamic quantization runs on CPU only, but the model has tensors on '
            f'{other}: build it on the CPU (init_detector(..., device="cpu")).')


def quantize_dynamic_int8(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Dynamically quantize the ``nn.Linear`` layers of a CPU model to int8, for inference.

    The attention layers are first rewritten as :class:`LinearAttention` /
    :class:`LinearCrossAttention` (exact fp32 equivalents) so that their projections are
    quantized too. Every ``nn.Linear`` outside ``model.data_preprocessor`` (and outside
    subclasses of the attention classes, kept fp32) becomes a dynamic int8 linear with
    per-output-channel symmetric weight scales. The model is put in eval mode and refuses to
    run in training mode afterwards; attributes such as ``model.cfg`` are kept.

    Args:
        model (nn.Module): An fp32 model whose parameters are all on the CPU.
        inplace (bool): Modify ``model`` itself; by default a deep copy is quantized and
            ``model`` is left as it was.

    Returns:
        nn.Module: The quantized model (``model`` itself when ``inplace``).

    Raises:
        ValueError: A parameter or buffer is not on the CPU (e.g. CUDA).
        RuntimeError: This PyTorch build has no quantized engine for int8 linear layers.
    """
    _check_cpu(model)
    _select_engine()
    if not inplace:
        # inference_detector's cached pipeline is not copied (it is rebuilt on first use).
        original = model
        scorer = original.__dict__.pop('_holaframe_scorer', None)
        try:
            model = copy.deepcopy(original)
        finally:
            if scorer is not None:
                original._holaframe_scorer = scorer
    model.eval()
    _swap_attention(model)
    fp32_only = set()
    for name, module in model.named_modules():
        if isinstance(module, (Attention, CrossAttention)) or name == 'data_preprocessor':
            fp32_only.update('.'.join(n for n in (name, sub) if n)
                             for sub, _ in module.named_modules())
    targets = [name for name, module in model.named_modules()
               if type(module) is nn.Linear and name not in fp32_only]
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated upstream (moved to torchao) but still works.
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        warnings.filterwarnings('ignore', message='.*deprecated.*', category=UserWarning)
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
        if targets:
            quantize_dynamic(model, {name: per_channel_dynamic_qconfig for name in targets},
                             dtype=torch.qint8, inplace=True)
    model.eval()
    if not getattr(model, INT8_FLAG, False):
        model.register_forward_pre_hook(_refuse_training)
    setattr(model, INT8_FLAG, True)
    return model


def is_int8_quantized(model: nn.Module) -> bool:
    """Whether ``model`` came out of :func:`quantize_dynamic_int8`."""
    return bool(getattr(model, INT8_FLAG, False))
