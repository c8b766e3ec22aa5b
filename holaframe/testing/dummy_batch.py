"""A real input batch for any config: a few generated clips through the config's own pipeline."""

import copy
from typing import Any, Dict, Optional, Sequence, Tuple

from mmengine.dataset import pseudo_collate

from holaframe.registry import DATASETS
from holaframe.testing.synthetic_avdf import generate_synthetic_avdf

#: Dataloaders tried in this order: the test pipeline is what a deployed model sees.
SPLITS = ('test_dataloader', 'val_dataloader', 'train_dataloader')


def make_tiny_avdf(root: str, seed: int = 0, duration_range: Tuple[float, float] = (3.0, 3.5),
                   frame_size: int = 224) -> str:
    """Write the smallest AV-Deepfake1M++-layout dataset every config can read.

    Two train and two val clips, one testA and one testB clip, at the real data's frame size,
    no silent clips.

    Args:
        root (str): Output folder.
        seed (int): Generator seed. Defaults to 0.
        duration_range (tuple): Clip durations in seconds. Defaults to (3.0, 3.5).
        frame_size (int): Frame side. Defaults to 224.

    Returns:
        str: ``root``.
    """
    generate_synthetic_avdf(root, num_train=2, num_val=2, num_testA=1, num_testB=1, seed=seed,
                            num_silent=0, duration_range=duration_range, frame_size=frame_size,
                            write_test_labels=False)
    return root


def build_dummy_batch(cfg: Any, data_root: str, batch_size: int = 1,
                      splits: Sequence[str] = SPLITS) -> Dict[str, Any]:
    """Collate ``batch_size`` samples of the first dataloader of ``cfg`` that exists.

    The dataset of that dataloader is built with ``data_root`` (e.g. from
    :func:`make_tiny_avdf`), so the samples have exactly the shapes the config's pipeline
    produces (frames, crop size, audio features, sequence lengths). A video-list dataset is made
    to find the clips by pattern instead of its list file.

    Args:
        cfg (Config | dict): A config with at least one of ``test_dataloader``,
            ``val_dataloader``, ``train_dataloader``.
        data_root (str): Root of a dataset in the AV-Deepfake1M++ layout.
        batch_size (int): Number of samples. Defaults to 1.
        splits (Sequence[str]): Dataloader keys tried in order.

    Returns:
        dict: ``pseudo_collate`` output (``inputs``, ``data_samples``), ready for
        ``model.data_preprocessor(batch, training=False)``.
    """
    loader: Optional[dict] = next((cfg[k] for k in splits if cfg.get(k)), None)
    if loader is None:
        raise KeyError(f'holaframe/testing/dummy_batch.py: the config has none of {list(splits)}.')
    dataset_cfg = copy.deepcopy(loader['dataset'])
    dataset_cfg['data_root'] = data_root
    if dataset_cfg.get('type') == 'AVVideoDataset':
        dataset_cfg.update(list_file=None, pattern='**/*.mp4')
    dataset = DATASETS.build(dataset_cfg)
    if len(dataset) < batch_size:
        raise ValueError(f'holaframe/testing/dummy_batch.py: {data_root} has {len(dataset)} '
                         f'samples for {dataset_cfg.get("type")}, fewer than {batch_size}.')
    return pseudo_collate([dataset[i] for i in range(batch_size)])
