"""Table 1 baselines of the HOLA paper: five audio and four video expert models, each a
backbone that maps one modality to a pooled clip feature ``(B, out_channels)``."""

from .c3d import C3D
from .campplus import CAMPPlus
from .cnn14 import CNN14
from .ecapa_tdnn import ECAPATDNN
from .i3d import I3D
from .res2net import Res2Net
from .se_resnet import SEResNet
from .timesformer import TimeSformer
from .video_swin import VideoSwinTransformer

__all__ = [
    'ECAPATDNN', 'Res2Net', 'CAMPPlus', 'SEResNet', 'CNN14', 'I3D', 'C3D',
    'VideoSwinTransformer', 'TimeSformer'
]
