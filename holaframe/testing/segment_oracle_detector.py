"""``SegmentOracleDetector``: Track 2 predictions made from the ground truth, for tool tests.

Importing this module registers the detector, so ``holaframe.testing`` does not import it: a
config names it (``custom_imports = dict(imports=['holaframe.testing.segment_oracle_detector'])``)
or a test imports it.
"""

from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from holaframe.registry import MODELS


@MODELS.register_module()
class SegmentOracleDetector(BaseModel):
    """Predicts each annotated fake segment shifted by ``shift`` seconds, plus one decoy.

    The ``fake_segments`` metainfo of every sample becomes the proposals
    ``[0.9 - 0.1 k, start + shift, end + shift]`` (``k``: the segment's index), followed by the
    decoy ``[0.05, 0, 0.5]``, so that real and unlabeled videos get one proposal too; the fake
    probability ``pred_score`` is 1 when the video has a segment, else 0. The inputs are not
    read. The one parameter only gives the checkpoint a tensor to load.

    Args:
        shift (float): Shift of the proposals in seconds (0.04: one frame at 25 fps).
        data_preprocessor (dict, optional): Data preprocessor config.
    """

    def __init__(self, shift: float = 0.04, data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        self.shift = float(shift)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = 'tensor'):
        """``predict``: samples with ``pred_segments`` ``(N, 3)`` and ``pred_score``.

        Args:
            inputs (dict): Packed inputs (unused).
            data_samples (list, optional): ``AVDataSample`` with the ``fake_segments`` metainfo.
            mode (str): Only ``predict`` is supported.
        """
        if mode != 'predict':
            raise ValueError(f'segment_oracle_detector.py: only mode="predict" is supported, '
                             f'got {mode!r}')
        for sample in data_samples:
            segments = sample.metainfo.get('fake_segments') or []
            rows = [[0.9 - 0.1 * k, s + self.shift, e + self.shift]
                    for k, (s, e) in enumerate(segments)]
            rows.append([0.05, 0.0, 0.5])
            sample.pred_segments = torch.tensor(rows, dtype=torch.float32)
            sample.pred_score = torch.tensor(float(bool(segments)))
            sample.pred_label = torch.tensor(int(bool(segments)))
        return data_samples
