"""Helpers imported by the distributed tests' configs (through ``custom_imports``).

``DistProbeHook`` writes, per rank, what the multi-process tests compare: the files of every
training batch (data order), the logged loss, and exact fingerprints (SHA-256 of the bytes) of
the model state and of the optimizer state when training starts in this process (i.e. right
after ``--resume``) and when it ends. ``DistToyDetector``/``DistToyDataset`` are a tiny
deterministic model and in-memory dataset used by the fast strategy tests.
"""

import hashlib
import json
import os.path as osp
from typing import Dict, Iterable, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from holaframe.registry import DATASETS, HOOKS, MODELS
from holaframe.structures import AVDataSample


def digest(tensors: Iterable[torch.Tensor]) -> str:
    """SHA-256 of the float64 bytes of ``tensors`` (equal iff all values are equal)."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().double().contiguous().numpy().tobytes())
    return h.hexdigest()


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside DeepSpeed / DDP wrappers."""
    while hasattr(model, 'module'):
        model = model.module
    return model


def model_digest(model: nn.Module) -> str:
    """Fingerprint of the model's full state dict (parameters and buffers, sorted by name);
    ZeRO-3 partitioned parameters are gathered first."""
    module = unwrap(model)
    partitioned = [p for p in module.parameters() if hasattr(p, 'ds_id')]
    if partitioned:
        import deepspeed
        with deepspeed.zero.GatheredParameters(partitioned):
            state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    else:
        state = module.state_dict()
    return digest(state[k] for k in sorted(state))


def optimizer_digest(optimizer) -> str:
    """Fingerprint of this rank's optimizer state: parameters it updates, their Adam state, lr.

    For DeepSpeed's ZeRO optimizers the wrapped base optimizer holds this rank's fp32 partition.
    """
    base = getattr(optimizer, 'optimizer', optimizer)
    tensors: List[torch.Tensor] = []
    for group in base.param_groups:
        tensors.append(torch.tensor([float(group['lr'])]))
        for p in group['params']:
            tensors.append(p)
            state = base.state.get(p, {})
            for key in sorted(state):
                value = state[key]
                tensors.append(value if torch.is_tensor(value) else torch.tensor([value]))
    return digest(tensors)


@HOOKS.register_module()
class DistProbeHook(Hook):
    """Record data order, losses and state fingerprints to ``work_dir/probe_rank{r}.json``.

    Before a test run it writes the evaluated model's fingerprint to
    ``work_dir/probe_test_rank{r}.json``.
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.record: Dict = dict(iters=[], states={}, start=None, end=None)

    @staticmethod
    def _state(runner) -> dict:
        optim = runner.optim_wrapper.optimizer
        return dict(
            iter=runner.iter, model=model_digest(runner.model), optim=optimizer_digest(optim))

    def before_train(self, runner) -> None:
        self.record['start'] = self._state(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.record['states'][str(runner.iter)] = self._state(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        files = [s.metainfo.get('file', s.metainfo.get('sample_idx'))
                 for s in data_batch['data_samples']]
        self.record['iters'].append(
            dict(iter=runner.iter, files=files, loss=float(outputs['loss'])))

    def before_test(self, runner) -> None:
        # After load_from: the weights every rank evaluates with.
        with open(osp.join(runner.work_dir, f'probe_test_rank{get_rank()}.json'), 'w') as f:
            json.dump(dict(model=model_digest(runner.model)), f)

    def after_train(self, runner) -> None:
        self.record['end'] = self._state(runner)
        with open(osp.join(runner.work_dir, f'probe_rank{get_rank()}.json'), 'w') as f:
            json.dump(self.record, f)


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


@MODELS.register_module()
class DistToyDetector(BaseModel):
    """Two-layer MLP over the flattened video and audio; detector forward modes.

    Args:
        video_numel (int): Elements of one clip's video.
        audio_numel (int): Elements of one clip's audio.
        data_preprocessor (dict, optional): Data preprocessor config.
    """

    def __init__(self, video_numel: int = 96, audio_numel: int = 16,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        torch.manual_seed(0)
        self.fc1 = nn.Linear(video_numel + audio_numel, 16)
        self.norm = nn.LayerNorm(16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        video, audio = inputs['video'], inputs['audio']
        x = torch.cat([video.flatten(1) / 255.0, audio.flatten(1)], dim=1)
        logits = self.fc2(torch.relu(self.norm(self.fc1(x))))
        if mode == 'tensor':
            return logits
        labels = torch.cat([s.gt_label for s in data_samples]).to(logits.device)
        if mode == 'loss':
            return dict(loss_cls=F.cross_entropy(logits.float(), labels))
        scores = logits.float().softmax(-1)[:, 1]
        for sample, score in zip(data_samples, scores):
            sample.pred_score = score.detach()
            sample.pred_label = (score >= 0.5).long().detach()
        return data_samples
