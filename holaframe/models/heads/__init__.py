"""Classification heads and auxiliary heads."""

from .cls_head import ClsHead
from .frame_aux_head import FrameAuxHead
from .hicmae_cls_head import HiCMAEClsHead
from .localization_head import LocalizationHead
from .top_k_frame_pooling import TopKFramePooling

__all__: list = ['ClsHead', 'FrameAuxHead', 'HiCMAEClsHead', 'LocalizationHead', 'TopKFramePooling']
