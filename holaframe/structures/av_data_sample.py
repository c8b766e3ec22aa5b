"""The data sample that flows from the data pipeline through the model to the metrics."""

from typing import Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LABEL_REAL = 0
LABEL_FAKE = 1
LABEL_UNKNOWN = -1


def _to_tensor(value, dtype) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.to(dtype)
    return torch.as_tensor(np.asarray(value), dtype=dtype)


class AVDataSample(BaseDataElement):
    """One audio-visual clip's annotations and predictions.

    Fields (data, may be absent):
        gt_label (LongTensor, shape ``(1,)``): 1 = fake, 0 = real, -1 = unlabeled.
        frame_labels (FloatTensor, shape ``(T,)``): per sampled frame, 1 inside a fake segment.
            Only produced by pipelines that opt in (segment supervision breaks the
            challenge's video-level rule).
        pred_score (FloatTensor, shape ``()``): predicted probability that the clip is fake.
        pred_label (LongTensor, shape ``()``): predicted class.

    Metainfo (set by the dataset, read by metrics and submission writers): ``file``
    (relative path, the key of the challenge submission), ``filename`` (absolute path),
    ``sample_idx``, ``modify_type``, ``audio_model``, ``video_model``, ``has_audio`` ...
    """

    def set_gt_label(self, value: Union[int, np.ndarray, torch.Tensor]) -> 'AVDataSample':
        """Set ``gt_label`` from an int or array-like."""
        self.gt_label = _to_tensor(value, torch.long).reshape(1)
        return self

    def set_pred_score(self, value: Union[float, torch.Tensor]) -> 'AVDataSample':
        """Set the predicted fake probability (a scalar tensor)."""
        self.pred_score = _to_tensor(value, torch.float32).reshape(())
        return self

    def set_pred_label(self, value: Union[int, torch.Tensor]) -> 'AVDataSample':
        """Set the predicted class (a scalar tensor)."""
        self.pred_label = _to_tensor(value, torch.long).reshape(())
        return self
