"""Batching, device move and normalisation of audio-visual inputs."""

from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor

from holaframe.registry import MODELS


def _stack(values: Union[torch.Tensor, Sequence[torch.Tensor]], key: str) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values
    shapes = {tuple(v.shape) for v in values}
    if len(shapes) != 1:
        raise ValueError(f'av_data_preprocessor.py: inputs[{key!r}] of one batch have different '
                         f'shapes {sorted(shapes)}; the pipeline must give a fixed size')
    return torch.stack(list(values))


@MODELS.register_module()
class AVDataPreprocessor(BaseDataPreprocessor):
    """Stacks ``inputs['video']`` and ``inputs['audio']``, moves them to the model's device,
    normalises the video and adds ``has_audio``.

    Output: ``dict(inputs=dict(video=(B, C, T, H, W) float, audio=(B, ...) float,
    has_audio=(B,) bool), data_samples=[...])``. ``has_audio`` comes from each sample's metainfo
    (``True`` when absent); the audio of silent clips is set to zero so no NaN or garbage enters
    the model.

    Args:
        mean (Sequence[float], optional): Per-channel video mean on the 0-255 scale.
        std (Sequence[float], optional): Per-channel video std on the 0-255 scale.
        non_blocking (bool): Non-blocking device copies. Defaults to False.
    """

    def __init__(self, mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None, non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('av_data_preprocessor.py: give both mean and std, or neither')
        self._normalize = mean is not None
        if self._normalize:
            self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1, 1),
                                 persistent=False)
            self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1, 1),
                                 persistent=False)

    def forward(self, data: dict, training: bool = False) -> Dict[str, object]:
        """Prepare one batch.

        Args:
            data (dict): ``dict(inputs=dict(video=..., audio=...), data_samples=[...])`` as
                collated by the dataloader (lists of tensors or stacked tensors).
            training (bool): Unused; kept for the MMEngine interface.
        """
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):  # a list of per-sample dicts
            inputs = {k: [d[k] for d in inputs] for k in inputs[0]}
        for key in ('video', 'audio'):
            if key not in inputs:
                raise KeyError(f'av_data_preprocessor.py: inputs has no {key!r} entry '
                               f'(keys: {sorted(inputs)}); check PackAVInputs')
        video = _stack(inputs['video'], 'video').float()
        audio = _stack(inputs['audio'], 'audio').float()
        if video.dim() != 5:
            raise ValueError(f'av_data_preprocessor.py: video must be (B, C, T, H, W), got '
                             f'{tuple(video.shape)}')
        if self._normalize:
            if video.shape[1] != self.mean.shape[0]:
                raise ValueError(f'av_data_preprocessor.py: video has {video.shape[1]} channels,'
                                 f' mean/std have {self.mean.shape[0]}')
            video = (video - self.mean) / self.std
        samples: Optional[List] = data.get('data_samples')
        has_audio = self._has_audio(inputs, samples, video.shape[0], video.device)
        keep = has_audio.to(audio.dtype).view(-1, *([1] * (audio.dim() - 1)))
        audio = torch.where(keep > 0, audio, torch.zeros_like(audio))
        return dict(inputs=dict(video=video, audio=audio, has_audio=has_audio),
                    data_samples=samples)

    @staticmethod
    def _has_audio(inputs: dict, samples: Optional[List], batch: int,
                   device: torch.device) -> torch.Tensor:
        if 'has_audio' in inputs:
            value = inputs['has_audio']
            if not isinstance(value, torch.Tensor):
                value = torch.tensor([bool(v) for v in value])
            return value.to(device=device, dtype=torch.bool).reshape(batch)
        if samples is None:
            return torch.ones(batch, dtype=torch.bool, device=device)
        flags = [bool(s.metainfo.get('has_audio', True)) for s in samples]
        return torch.tensor(flags, dtype=torch.bool, device=device)
