"""The AV-Deepfake1M++ challenge submission format: one ``<relative path>;<score>`` per line.

The score is the fake probability in [0, 1]. Lines follow the order of the subset's file list
(the dataset's ``sample_idx`` order, which keeps the file-list order). Scores are written as the
shortest decimal that reads back to the same float32 value, never in scientific notation, so
that rounding creates no ties that the model did not produce (ties change the AUC).
"""

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
