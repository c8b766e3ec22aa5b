"""Model transforms for deployment: int8 dynamic quantization for CPU inference, ONNX export,
onnxruntime int8 quantization (dynamic and static) and the onnxruntime backend.

A layer above ``models`` (it rewrites model modules) and below ``apis`` (``init_detector`` can
apply it); see docs/architecture.md.
"""

from .onnx_detector import OnnxDetector, load_onnx_detector
from .onnx_export import OnnxExportWrapper, export_onnx, read_metadata, stack_packed
from .onnx_quantization import (
    PackedCalibrationReader,
    dataset_samples,
    quantize_onnx_dynamic,
    quantize_onnx_static,
)
from .quantization import is_int8_quantized, quantize_dynamic_int8

__all__ = ['quantize_dynamic_int8', 'is_int8_quantized', 'OnnxExportWrapper', 'export_onnx',
           'read_metadata', 'stack_packed', 'OnnxDetector', 'load_onnx_detector',
           'PackedCalibrationReader', 'dataset_samples', 'quantize_onnx_dynamic',
           'quantize_onnx_static']
