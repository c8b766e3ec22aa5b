"""Per-clip prediction records shared by the video metric and the submission writer."""

import logging
from typing import Any, Dict, List, Sequence

from mmengine.logging import print_log


def get_field(sample: Any, key: str, default: Any = None) -> Any:
    """Read ``key`` from a data sample (``BaseDataElement``) or a plain dict.

    Args:
        sample: An ``AVDataSample`` or a dict produced by ``AVDataSample.to_dict()``.
        key (str): Data field or metainfo key.
        default: Returned when the key is absent.
    """
    return sample.get(key, default)


def to_float(value: Any) -> float:
    """Turn a scalar tensor / array / number into a Python float."""
    if hasattr(value, 'detach'):
        value = value.detach().cpu().reshape(-1)
        if value.numel() != 1:
            raise ValueError(f'Expected one score per clip, got {value.numel()} values.')
        return float(value[0])
    if hasattr(value, 'reshape'):
        return float(value.reshape(-1)[0])
    return float(value)


def clip_key(sample: Any) -> Any:
    """The identity of a clip: its relative ``file``, else its ``sample_idx``.

    Raises:
        KeyError: When the sample has neither (padded duplicates could not be removed).
    """
    key = get_field(sample, 'file')
    if key is None:
        key = get_field(sample, 'sample_idx')
    if key is None:
        raise KeyError('A data sample has neither a `file` nor a `sample_idx` metainfo key; '
                       'the dataset must set one so each clip is counted once.')
    return key


def deduplicate(records: Sequence[Dict], name: str = 'metric') -> List[Dict]:
    """Keep the first record of every clip key (drops the distributed sampler's padding).

    MMEngine's ``DefaultSampler`` pads the last shard by repeating samples so that every rank
    gets the same number; ``collect_results`` truncates to the dataset length, which removes
    the padding only for the default interleaved order. Deduplicating by the clip key makes the
    metric correct for any sampler.

    Args:
        records (Sequence[dict]): Records with a ``key`` entry.
        name (str): Who deduplicates (for the log line).
    """
    seen = set()
    kept = []
    for record in records:
        if record['key'] in seen:
            continue
        seen.add(record['key'])
        kept.append(record)
    dropped = len(records) - len(kept)
    if dropped:
        print_log(f'{name}: dropped {dropped} duplicated clip record(s) (sampler padding).',
                  logger='current', level=logging.INFO)
    return kept
