"""Shortcut audit of a labelled AV-Deepfake1M++-format subset: trivial features as fake scores.

A generated (or real) set is only a test of audio-visual forgery detection when nothing trivial
separates real from fake clips. :func:`shortcut_aucs` scores every clip of a labelled subset
by four such features and returns the AUC of each as a fake score; an AUC far from 0.5 (either
way) is a shortcut a detector can learn instead of the forgery:

* ``duration``: the number of video frames / 25;
* ``loudness``: RMS of the whole audio track;
* ``first_0.3s``: RMS of the first 0.3 s (leading silence, the known AV-Deepfake1M shortcut);
* ``file_size``: bytes of the mp4.

Clips without an audio stream count as silent.
"""

import json
import os.path as osp
from typing import Dict

import numpy as np

__all__ = ['SHORTCUT_FEATURES', 'shortcut_features', 'shortcut_aucs']

SHORTCUT_FEATURES = ('duration', 'loudness', 'first_0.3s', 'file_size')


def shortcut_features(root: str, subset: str = 'train') -> Dict[str, np.ndarray]:
    """Labels (1 = fake) and the trivial features of every clip of ``root/<subset>``.

    Args:
        root: Dataset root holding ``<subset>_metadata.json`` and ``<subset>/``.
        subset: A labelled subset.

    Returns:
        ``label`` and one array per name of :data:`SHORTCUT_FEATURES`.

    Raises:
        FileNotFoundError: The subset's metadata file is missing.
    """
    import decord

    meta_file = osp.join(root, f'{subset}_metadata.json')
    if not osp.isfile(meta_file):
        raise FileNotFoundError(f'shortcut_audit.py: no metadata file {meta_file} (a labelled '
                                f'subset of an AV-Deepfake1M++-format root is needed)')
    with open(meta_file) as f:
        meta = json.load(f)
    feats = {k: [] for k in ('label',) + SHORTCUT_FEATURES}
    for m in meta:
        path = osp.join(root, subset, m['file'])
        feats['label'].append(int(len(m['fake_segments']) > 0))
        feats['duration'].append(len(decord.VideoReader(path)) / 25)
        if m.get('audio_frames', 1):
            wave = decord.AudioReader(path, sample_rate=16000, mono=True)[:].asnumpy()[0]
        else:  # no audio stream
            wave = np.zeros(16000)
        feats['loudness'].append(float(np.sqrt(np.mean(wave ** 2))))
        feats['first_0.3s'].append(float(np.sqrt(np.mean(wave[:4800] ** 2))))
        feats['file_size'].append(osp.getsize(path))
    return {k: np.asarray(v) for k, v in feats.items()}


def shortcut_aucs(root: str, subset: str = 'train') -> Dict[str, float]:
    """AUC of each trivial feature of :func:`shortcut_features` as the fake score.

    Args:
        root: Dataset root.
        subset: A labelled subset with real and fake clips.

    Returns:
        Feature name -> AUC (0.5: the feature tells nothing).
    """
    from sklearn.metrics import roc_auc_score

    feats = shortcut_features(root, subset)
    y = feats['label']
    if y.min() == y.max():
        raise ValueError(f'shortcut_audit.py: {root}/{subset} holds one class only; the audit '
                         'needs real and fake clips')
    return {k: float(roc_auc_score(y, feats[k])) for k in SHORTCUT_FEATURES}
