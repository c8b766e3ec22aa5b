"""The AV-Deepfake1M++ challenge submission formats.

Track 1 (classification): one ``<relative path>;<score>`` per line.
Track 2 (temporal localisation): a JSON object ``{"<relative path>": [[confidence, start_s,
end_s], ...], ...}`` (see :func:`write_track2_submission`).

The score is the fake probability in [0, 1]. Lines follow the order of the subset's file list
(the dataset's ``sample_idx`` order, which keeps the file-list order). Scores are written as the
shortest decimal that reads back to the same float32 value, never in scientific notation, so
that rounding creates no ties that the model did not produce (ties change the AUC).
"""

import json
import math
from typing import Iterable, List, Sequence, Tuple

import numpy as np

from holaframe.utils.atomic_io import atomic_open

SEPARATOR = ';'


def format_score(score: float) -> str:
    """Shortest positional decimal that round-trips the float32 ``score``.

    Args:
        score (float): Fake probability in [0, 1].
    """
    return np.format_float_positional(np.float32(score), unique=True, trim='0')


def check_entry(file: str, score: float) -> None:
    """Raise a ``ValueError`` naming the clip if ``file``/``score`` cannot be submitted.

    Args:
        file (str): Relative path of the clip.
        score (float): Its fake probability.
    """
    if not file or SEPARATOR in file or '\n' in file or '\r' in file:
        raise ValueError(f'Invalid submission file name {file!r}: empty or contains '
                         f'{SEPARATOR!r} or a line break.')
    if not (math.isfinite(score) and 0.0 <= score <= 1.0):
        raise ValueError(f'Score of {file} must be a probability in [0, 1], got {score}.')


def write_submission(out_file: str, entries: Iterable[Tuple[str, float]]) -> int:
    """Write ``file;score`` lines in the given order.

    Args:
        out_file (str): Output text file (written atomically); parent folders are created.
        entries (Iterable[tuple]): ``(relative path, fake probability)`` pairs.

    Returns:
        int: The number of lines written.
    """
    lines = []
    seen = set()
    for file, score in entries:
        file = str(file)
        score = float(score)
        check_entry(file, score)
        if file in seen:
            raise ValueError(f'{file} appears twice in the submission.')
        seen.add(file)
        lines.append(f'{file}{SEPARATOR}{format_score(score)}\n')
    # Written to a temporary file and renamed: a crash never leaves a partial submission.
    # File names that are not valid UTF-8 are written back as their original bytes.
    with atomic_open(out_file, errors='surrogateescape') as f:
        f.writelines(lines)
    return len(lines)


def read_submission(path: str) -> List[Tuple[str, float]]:
    """Read and validate a submission file.

    Args:
        path (str): A file written by :func:`write_submission` (or by hand).

    Returns:
        list[tuple]: ``(relative path, score)`` in file order.
    """
    entries = []
    with open(path) as f:
        for num, line in enumerate(f, 1):
            line = line.rstrip('\n')
            parts = line.split(SEPARATOR)
            if len(parts) != 2:
                raise ValueError(f'{path}:{num}: expected "<file>;<score>", got {line!r}')
            try:
                score = float(parts[1])
            except ValueError as exc:
                raise ValueError(f'{path}:{num}: score {parts[1]!r} is not a number') from exc
            check_entry(parts[0], score)
            entries.append((parts[0], score))
    return entries


def order_entries(entries: Sequence[Tuple[str, float]],
                  file_list: Sequence[str]) -> List[Tuple[str, float]]:
    """Put ``entries`` in the order of ``file_list``; both must name the same clips.

    Args:
        entries (Sequence[tuple]): ``(file, score)`` pairs in any order.
        file_list (Sequence[str]): The subset's relative paths in the official order.
    """
    scores = dict(entries)
    missing = [f for f in file_list if f not in scores]
    extra = sorted(set(scores) - set(file_list))
    if missing or extra:
        raise ValueError(
            f'Predictions do not match the file list: {len(missing)} missing '
            f'(e.g. {missing[:3]}), {len(extra)} not in the list (e.g. {extra[:3]}).')
    return [(f, scores[f]) for f in file_list]


def read_file_list(path: str) -> List[str]:
    """Read a file list: one relative path per line (blank lines ignored).

    Args:
        path (str): Text file.
    """
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


# ------------------------------------------------------------------ Track 2 (temporal localisation)
# A JSON object ``{"<relative path>": [[confidence, start_s, end_s], ...], ...}``: per video a
# list of proposed fake segments, sorted by confidence (descending). The official SDK reads the
# numbers as float32; they are written as the shortest decimals that read back to the same
# float32 values.


def check_track2_entry(file: str, proposals) -> np.ndarray:
    """Raise a ``ValueError`` naming the video if its proposals cannot be submitted.

    Args:
        file (str): Relative path of the video.
        proposals: ``(N, 3)`` rows ``[confidence, start_s, end_s]``.

    Returns:
        np.ndarray: The proposals as float32 ``(N, 3)``.
    """
    if not file or '\n' in file or '\r' in file:
        raise ValueError(f'Invalid submission file name {file!r}: empty or contains a line '
                         'break.')
    if hasattr(proposals, 'detach'):
        proposals = proposals.detach().cpu().numpy()
    arr = np.asarray(proposals, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f'Proposals of {file} must have shape (N, 3) rows [confidence, start, '
                         f'end], got shape {arr.shape}.')
    if len(arr) == 0:
        raise ValueError(f'{file} has no proposal; the challenge needs at least one per video.')
    if not np.isfinite(arr).all():
        raise ValueError(f'Proposals of {file} hold a value that is not finite.')
    if ((arr[:, 0] < 0) | (arr[:, 0] > 1)).any():
        raise ValueError(f'Proposal confidences of {file} must lie in [0, 1].')
    bad = np.nonzero(arr[:, 1] >= arr[:, 2])[0]
    if len(bad):
        raise ValueError(f'Proposal {int(bad[0])} of {file} does not end after it starts: '
                         f'{arr[bad[0], 1:].tolist()}.')
    return arr.astype(np.float32)


def format_proposals(proposals: np.ndarray) -> str:
    """``[[c,s,e],...]`` with each number as the shortest decimal of its float32 value.

    Args:
        proposals (np.ndarray): ``(N, 3)`` float32 rows.
    """
    return '[' + ','.join('[' + ','.join(format_score(v) for v in row) + ']'
                          for row in proposals) + ']'


def write_track2_submission(out_file: str, entries: Iterable[Tuple[str, object]]) -> int:
    """Write the Track 2 JSON, one video per line, in the given order.

    Each video's proposals are sorted by confidence, descending (a stable sort: ties keep their
    order), as the challenge asks; its AR takes the first proposals of each list.

    Args:
        out_file (str): Output JSON file (written atomically); parent folders are created.
        entries (Iterable[tuple]): ``(relative path, (N, 3) proposals)`` pairs.

    Returns:
        int: The number of videos written.
    """
    lines = []
    seen = set()
    for file, proposals in entries:
        file = str(file)
        arr = check_track2_entry(file, proposals)
        if file in seen:
            raise ValueError(f'{file} appears twice in the submission.')
        seen.add(file)
        arr = arr[np.argsort(-arr[:, 0], kind='stable')]
        lines.append(f'{json.dumps(file, ensure_ascii=False)}:{format_proposals(arr)}')
    with atomic_open(out_file, errors='surrogateescape') as f:
        f.write('{\n' + ',\n'.join(lines) + '\n}\n')
    return len(lines)


def _unique_keys(pairs: List[Tuple[str, object]]) -> dict:
    """``json`` object hook that refuses a key given twice."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f'{key} appears twice in the submission.')
        out[key] = value
    return out


def read_track2_submission(path: str) -> List[Tuple[str, np.ndarray]]:
    """Read and validate a Track 2 JSON submission.

    Args:
        path (str): A file written by :func:`write_track2_submission` (or by hand).

    Returns:
        list[tuple]: ``(relative path, float32 (N, 3) proposals)`` in file order.
    """
    with open(path, encoding='utf-8') as f:
        try:
            data = json.load(f, object_pairs_hook=_unique_keys)
        except ValueError as exc:  # JSONDecodeError or a repeated video
            raise ValueError(f'{path}: {exc}') from exc
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a JSON object {{"<file>": [[confidence, start, '
                         f'end], ...]}}, got {type(data).__name__}')
    entries = []
    for file, proposals in data.items():
        try:
            entries.append((file, check_track2_entry(file, proposals)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f'{path}: {exc}') from exc
    return entries
