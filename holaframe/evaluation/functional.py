"""Video-level binary metrics of the AV-Deepfake1M++ challenge (HOLA Sec. 4.1.3).

The arithmetic is delegated to scikit-learn; :func:`rank_auc` writes out Eq. (14) of the paper
(the Mann-Whitney form of the AUC with average ranks for ties) and is pinned against
scikit-learn and a brute-force pairwise count in ``tests/test_evaluation``.

Conventions: label 1 = fake (the positive class), 0 = real; a score is the predicted fake
probability; a clip is predicted fake when ``score >= threshold``.
"""

from typing import Dict, Sequence

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import accuracy_score, f1_score, recall_score, roc_auc_score

CLASS_NAMES = ('real', 'fake')


def check_binary_labels(labels: np.ndarray, context: str = 'the evaluated set') -> None:
    """Raise a clear error unless ``labels`` holds both classes 0 and 1 and nothing else.

    Args:
        labels (np.ndarray): Ground-truth labels.
        context (str): What the labels belong to, used in the error message.

    Raises:
        ValueError: When a label is not 0/1, or when only one class is present (the AUC and
            the UAR are undefined then; scikit-learn would return NaN with a warning).
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError(f'No labeled clips in {context}: nothing to evaluate.')
    bad = np.setdiff1d(np.unique(labels), [0, 1])
    if bad.size:
        raise ValueError(f'Labels of {context} must be 0 (real) or 1 (fake); got {bad.tolist()}.')
    present = np.unique(labels)
    if present.size < 2:
        name = CLASS_NAMES[int(present[0])]
        raise ValueError(
            f'Only one class ({name}, {labels.size} clips) in {context}: AUC, WA-F1 and UAR need '
            'both real and fake clips. Evaluate a subset that contains both classes.')


def rank_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """AUC by the rank formula of Eq. (14), ties getting their average rank.

    ``AUC = (sum of the ranks of the M positives - M (M + 1) / 2) / (M N)`` with ranks of all
    ``M + N`` scores in ascending order (rank 1 = lowest score).

    Args:
        labels (Sequence[int]): 1 = fake (positive), 0 = real (negative).
        scores (Sequence[float]): Fake scores; higher = more likely fake.

    Returns:
        float: The area under the ROC curve.
    """
    labels = np.asarray(labels).astype(np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    check_binary_labels(labels)
    ranks = rankdata(scores, method='average')  # ties -> average rank
    num_pos = int((labels == 1).sum())  # M
    num_neg = int((labels == 0).sum())  # N
    # Eq. (14)
    return float((ranks[labels == 1].sum() - num_pos * (num_pos + 1) / 2) / (num_pos * num_neg))


def binary_video_metrics(labels: Sequence[int],
                         scores: Sequence[float],
                         threshold: float = 0.5,
                         context: str = 'the evaluated set') -> Dict[str, float]:
    """AUC, ACC, WA-F1 and UAR of video-level fake scores.

    Args:
        labels (Sequence[int]): 1 = fake, 0 = real; both classes must be present.
        scores (Sequence[float]): Fake probabilities.
        threshold (float): A clip is predicted fake when its score is ``>= threshold``.
        context (str): Name of the evaluated set for error messages.

    Returns:
        dict: ``auc`` in [0, 1]; ``acc``, ``wa_f1`` (F1 per class averaged with the class
        frequencies as weights) and ``uar`` (mean of the per-class recalls) in percent, as in
        Table 1 of the paper; ``num_real``, ``num_fake``.
    """
    labels = np.asarray(labels).astype(np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    check_binary_labels(labels, context)
    if not np.isfinite(scores).all():
        raise ValueError(f'Non-finite scores in {context}: the model produced NaN or inf.')
    preds = (scores >= threshold).astype(np.int64)
    return dict(
        auc=float(roc_auc_score(labels, scores)),
        acc=100.0 * float(accuracy_score(labels, preds)),
        wa_f1=100.0 * float(f1_score(labels, preds, average='weighted', zero_division=0)),
        uar=100.0 * float(recall_score(labels, preds, average='macro', zero_division=0)),
        num_real=int((labels == 0).sum()),
        num_fake=int((labels == 1).sum()),
    )


def accuracy_percent(labels: Sequence[int], scores: Sequence[float], threshold: float) -> float:
    """Accuracy in percent at ``threshold`` (defined for a single class too).

    Args:
        labels (Sequence[int]): 1 = fake, 0 = real.
        scores (Sequence[float]): Fake probabilities.
        threshold (float): A clip is predicted fake when its score is ``>= threshold``.
    """
    labels = np.asarray(labels).astype(np.int64)
    preds = (np.asarray(scores, dtype=np.float64) >= threshold).astype(np.int64)
    return 100.0 * float((preds == labels).mean())
