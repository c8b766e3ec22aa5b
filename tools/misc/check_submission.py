"""Check a challenge submission before upload; with the labels, score it with 95% intervals.

    python tools/misc/check_submission.py testA_submission.txt --list data/avdf1mpp/testA_files.txt
    python tools/misc/check_submission.py val_track2.json --list val_files.txt \\
        --metadata data/avdf1mpp/val_metadata.json --json

Track 1 (a text file of ``<file>;<score>`` lines) or Track 2 (a JSON object
``{"<file>": [[confidence, start_s, end_s], ...]}``; chosen when FILE ends in ``.json`` or starts
with ``{``). Every problem is printed with its line or video:

* the file is not valid UTF-8 (the line of the first bad byte), or not valid JSON (Track 2);
* a line that is not ``<file>;<score>``; a score that is not a number, not finite or outside
  [0, 1];
* a video given twice, a listed video that is missing, a video that is not in the list;
* Track 2: a video without proposals, a proposal that is not ``[confidence, start, end]`` of
  finite numbers, a confidence outside [0, 1], ``start >= end``, proposals not sorted by
  confidence (descending).

The exit status is 1 when there is any problem, else 0. With ``--metadata`` (the dataset's
metadata JSON: a list of ``{"file": ..., "fake_segments": [[start_s, end_s], ...]}``, a video
being fake when it has a segment, as the official SDK reads it) a valid submission is scored on
the listed videos that the metadata describes: Track 1 its AUC, Track 2 AP, AR and the score
(holaframe.evaluation.localization_functional, equal to the official SDK's ``ap_ar_1d``), each
with a 95% percentile-bootstrap interval over videos (``--num-resamples``, default 1000).
``--json`` prints one JSON object: ``track``, ``problems`` (list of strings) and, when scored,
``num_videos``, ``auc`` (Track 1) or ``ap`` (per IoU threshold), ``ar`` (per proposal count),
``mean_ap``, ``mean_ar`` and ``score`` (Track 2), each value ``{"value": v, "ci95": [lo, hi]}``.
"""

import argparse
import json
import math
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np

SEPARATOR = ';'


class Problems:
    """Collects the problems of one submission file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: List[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f'{self.path}:{where}: {message}')


def _decode(data: bytes, problems: Problems) -> str:
    """The text of ``data``; a bad byte is a problem (decoded with escapes to go on)."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b'\n') + 1
        problems.add(str(line), f'not valid UTF-8 (byte {exc.start}: {exc.reason})')
        return data.decode('utf-8', errors='surrogateescape')


def _probability(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and 0.0 <= value <= 1.0)


def check_track1(text: str, problems: Problems) -> Tuple[Dict, List[str]]:
    """Check ``<file>;<score>`` lines.

    Returns:
        tuple: ``{file: (score, line)}`` of the good lines, and the names of every line.
    """
    entries: Dict[str, Tuple[float, int]] = {}
    names: List[str] = []
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()  # the final newline
    for num, line in enumerate(lines, 1):
        line = line.rstrip('\r')
        if not line.strip():
            continue  # blank lines carry nothing (the SDK's reader skips them too)
        parts = line.split(SEPARATOR)
        if len(parts) != 2 or not parts[0]:
            problems.add(str(num), f'expected "<file>;<score>", got {line!r}')
            continue
        file, raw = parts
        names.append(file)
        try:
            score = float(raw)
        except ValueError:
            problems.add(str(num), f'{file}: score {raw!r} is not a number')
            continue
        if not math.isfinite(score) or not 0.0 <= score <= 1.0:
            problems.add(str(num), f'{file}: score {raw} is not a probability in [0, 1]')
        if file in entries:
            problems.add(str(num), f'{file} is given twice (first on line {entries[file][1]})')
            continue
        entries[file] = (score, num)
    return entries, names


def _pairs_hook(repeated: List[str]):
    def hook(pairs):
        out = {}
        for key, value in pairs:
            if key in out:
                repeated.append(key)
            out[key] = value
        return out
    return hook


def check_track2(text: str, problems: Problems) -> Tuple[Dict, Optional[List[str]]]:
    """Check the Track 2 JSON.

    Returns:
        tuple: ``{file: (N, 3) proposals}`` of the well-formed videos, and every video name
        (``None`` when the file is not a JSON object).
    """
    repeated: List[str] = []
    try:
        # NaN / Infinity are not JSON; they are read so as to be reported as not finite.
        data = json.loads(text, object_pairs_hook=_pairs_hook(repeated),
                          parse_constant=float)
    except json.JSONDecodeError as exc:
        problems.add(f'{exc.lineno}:{exc.colno}', f'not valid JSON: {exc.msg}')
        return {}, None
    if not isinstance(data, dict):
        problems.add('1', 'expected a JSON object {"<file>": [[confidence, start, end], ...]}, '
                     f'got a {type(data).__name__}')
        return {}, None
    for key in dict.fromkeys(repeated):
        problems.add(f'video {key!r}', 'given twice (the JSON object repeats the key)')
    entries: Dict[str, np.ndarray] = {}
    for file, rows in data.items():
        where = f'video {file!r}'
        if not isinstance(rows, list):
            problems.add(where, 'proposals must be a list [[confidence, start, end], ...]')
            continue
        if not rows:
            problems.add(where, 'no proposal (every video needs at least one)')
            continue
        good = True
        for i, row in enumerate(rows):
            if (not isinstance(row, list) or len(row) != 3
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                               for v in row)):
                problems.add(where, f'proposal {i} is not [confidence, start, end]: {row!r}')
                good = False
                continue
            if not all(math.isfinite(v) for v in row):
                problems.add(where, f'proposal {i} has a value that is not finite: {row}')
                good = False
                continue
            if not _probability(row[0]):
                problems.add(where, f'proposal {i}: confidence {row[0]} is not in [0, 1]')
                good = False
            if row[1] >= row[2]:
                problems.add(where, f'proposal {i}: start {row[1]} is not before end {row[2]}')
                good = False
        if not good:
            continue
        arr = np.asarray(rows, dtype=np.float64)
        unsorted = np.nonzero(np.diff(arr[:, 0]) > 0)[0]
        if len(unsorted):
            i = int(unsorted[0]) + 1
            problems.add(where, f'proposals are not sorted by confidence (descending): '
                         f'proposal {i} ({arr[i, 0]}) follows {arr[i - 1, 0]}')
            continue
        entries[file] = arr
    return entries, list(data)


def check_names(names: List[str], listed: List[str], problems: Problems) -> None:
    """Every listed video once, nothing else."""
    present = set(names)
    wanted = set(listed)
    for file in listed:
        if file not in present:
            problems.add(f'video {file!r}', 'listed but missing from the submission')
    for file in names:
        if file not in wanted:
            problems.add(f'video {file!r}', 'not in the list')


def _interval(entry: Dict[str, float]) -> Dict:
    return dict(value=entry['value'], ci95=[entry['low'], entry['high']])


def _metadata(path: str) -> Dict[str, List]:
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    if not isinstance(data, list) or not all(isinstance(d, dict) and 'file' in d for d in data):
        raise SystemExit(f'check_submission.py: {path}: expected a JSON list of '
                         '{"file": ..., "fake_segments": [...]} entries')
    return {d['file']: d.get('fake_segments') or [] for d in data}


def score(track: int, entries: Dict, listed: List[str], metadata: Dict[str, List],
          num_resamples: int, seed: int) -> Dict:
    """Metrics with 95% intervals on the listed videos that the metadata describes."""
    files = [f for f in listed if f in metadata]
    if not files:
        raise SystemExit('check_submission.py: no listed video is in the metadata')
    out: Dict = dict(num_videos=len(files))
    try:
        out.update(_score(track, entries, files, metadata, num_resamples, seed))
    except ValueError as exc:  # e.g. one class only, or no fake segment
        raise SystemExit(f'check_submission.py: cannot score the submission: {exc}') from exc
    return out


def _score(track: int, entries: Dict, files: List[str], metadata: Dict[str, List],
           num_resamples: int, seed: int) -> Dict:
    """AUC (Track 1) or AP / AR / score (Track 2) of ``files``, with bootstrap intervals."""
    from holaframe.evaluation import bootstrap_localization_metrics, bootstrap_video_metrics
    out: Dict = {}
    if track == 1:
        labels = [int(len(metadata[f]) > 0) for f in files]
        scores = [entries[f][0] for f in files]
        result = bootstrap_video_metrics(labels, scores, num_resamples=num_resamples,
                                         seed=seed)
        out['auc'] = _interval(result['auc'])
    else:
        result = bootstrap_localization_metrics([entries[f] for f in files],
                                                [metadata[f] for f in files],
                                                num_resamples=num_resamples, seed=seed,
                                                names=files)
        out['ap'] = {f'{t:g}': _interval(v) for t, v in result['ap'].items()}
        out['ar'] = {str(n): _interval(v) for n, v in result['ar'].items()}
        for key in ('mean_ap', 'mean_ar', 'score'):
            out[key] = _interval(result[key])
    return out


def _print_metrics(metrics: Dict) -> None:
    print(f'scored on {metrics["num_videos"]} videos (95% bootstrap intervals):')

    def line(name, entry):
        low, high = entry['ci95']
        print(f'  {name:<12} {entry["value"]:.4f}  [{low:.4f}, {high:.4f}]')

    if 'auc' in metrics:
        line('auc', metrics['auc'])
        return
    for key, entry in metrics['ap'].items():
        line(f'ap@{key}', entry)
    for key, entry in metrics['ar'].items():
        line(f'ar@{key}', entry)
    for key in ('mean_ap', 'mean_ar', 'score'):
        line(key, metrics[key])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('file', help='Track 1 .txt (<file>;<score> lines) or Track 2 .json')
    parser.add_argument('--list', required=True,
                        help='the subset file list (e.g. testA_files.txt), one path per line')
    parser.add_argument('--metadata',
                        help='metadata JSON with fake_segments: score the submission')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    parser.add_argument('--num-resamples', type=int, default=1000,
                        help='bootstrap resamples over videos (default 1000)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the resamples')
    parser.add_argument('--max-problems', type=int, default=100,
                        help='print at most this many problems (0: all); all are counted')
    args = parser.parse_args(argv)

    for path in (args.file, args.list) + ((args.metadata, ) if args.metadata else ()):
        if not osp.isfile(path):
            raise SystemExit(f'check_submission.py: {path}: no such file')
    problems = Problems(args.file)
    with open(args.file, 'rb') as f:
        data = f.read()
    text = _decode(data, problems)
    track = 2 if (args.file.lower().endswith('.json') or text.lstrip().startswith('{')) else 1
    entries, names = (check_track1 if track == 1 else check_track2)(text, problems)
    with open(args.list, encoding='utf-8', errors='surrogateescape') as f:
        listed = [line.strip() for line in f if line.strip()]
    if names is not None:  # else: not readable as a submission at all
        check_names(list(dict.fromkeys(names)), listed, problems)

    metrics = None
    if args.metadata and not problems.items:
        metrics = score(track, entries, listed, _metadata(args.metadata), args.num_resamples,
                        args.seed)
    if args.json:
        out = dict(track=track, file=args.file, problems=problems.items)
        if metrics:
            out.update(metrics)
        print(json.dumps(out))
    else:
        shown = problems.items if args.max_problems <= 0 else problems.items[:args.max_problems]
        for item in shown:
            print(item)
        if len(shown) < len(problems.items):
            print(f'... and {len(problems.items) - len(shown)} more')
        if problems.items:
            print(f'{args.file}: {len(problems.items)} problem(s); Track {track}, '
                  f'{len(listed)} listed videos', file=sys.stderr)
        else:
            print(f'{args.file}: OK (Track {track}, {len(listed)} listed videos, each once)')
        if args.metadata and problems.items:
            print('not scored: fix the problems first', file=sys.stderr)
        if metrics:
            _print_metrics(metrics)
    return 1 if problems.items else 0


if __name__ == '__main__':
    sys.exit(main())
