"""Components for the multi-process tests, imported by their configs through ``custom_imports``.

``DistProbeHook`` writes, per rank, what the multi-process tests compare: the files of every
training batch (data order), the logged loss, and exact fingerprints (SHA-256 of the bytes) of
the model state and of the optimizer state when training starts in this process (i.e. right
after ``--resume``) and when it ends. ``DistToyDetector``/``DistToyDataset`` are a tiny
deterministic model and in-memory dataset for the fast strategy tests.

Importing this package registers the three components in holaframe's registries, so
``holaframe.testing`` does not import it: a config names it
(``custom_imports = dict(imports=['holaframe.testing.distributed'])``) or a test imports it.
"""

from .dist_probe_hook import DistProbeHook
from .dist_toy_dataset import DistToyDataset
from .dist_toy_detector import DistToyDetector
from .fingerprints import digest, model_digest, optimizer_digest, unwrap

__all__ = [
    'DistProbeHook', 'DistToyDataset', 'DistToyDetector', 'digest', 'model_digest',
    'optimizer_digest', 'unwrap'
]
