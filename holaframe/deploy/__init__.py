"""Model transforms for deployment: int8 dynamic quantization for CPU inference.

A layer above ``models`` (it rewrites model modules) and below ``apis`` (``init_detector`` can
apply it); see docs/architecture.md.
"""

from .quantization import is_int8_quantized, quantize_dynamic_int8

__all__ = ['quantize_dynamic_int8', 'is_int8_quantized']
