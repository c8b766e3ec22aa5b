"""``DistToyDataset``: deterministic in-memory clips for the strategy tests."""

import torch
from torch.utils.data import Dataset

from holaframe.registry import DATASETS
from holaframe.structures import AVDataSample


@DATASETS.register_module()
class DistToyDataset(Dataset):
    """``num_samples`` deterministic clips in memory; odd indices are fake and brighter.

    Args:
        num_samples (int): Number of clips.
    """

    def __init__(self, num_samples: int = 10) -> None:
        self.num_samples = num_samples
        self.metainfo = dict(classes=('real', 'fake'))

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, idx: int) -> dict:
        gen = torch.Generator().manual_seed(idx)
        label = idx % 2
        video = torch.randint(0, 200, (3, 2, 4, 4), generator=gen, dtype=torch.uint8) + 40 * label
        audio = torch.randn(2, 8, generator=gen) + label
        sample = AVDataSample(metainfo=dict(file=f'clip_{idx:03d}.mp4', sample_idx=idx,
                                            has_audio=True))
        sample.gt_label = torch.tensor([label])
        return dict(inputs=dict(video=video, audio=audio), data_samples=sample)
