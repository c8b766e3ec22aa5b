"""Robustness of a detector to re-encoding, noise, blur and audio degradations.

``python tools/analysis_tools/robustness.py CONFIG CHECKPOINT [--perturb NAME ...] [--levels 1-5]``

Evaluates the clean set and every (perturbation, level) cell of the protocol (DeeperForensics-1.0's
seven video distortions and AuViRe's four audio ones, levels 1..5; see docs/robustness.md): the
perturbation is inserted into the evaluated pipeline right after decoding (video ones after
``DecordDecode``, audio ones after ``AudioDecode``) with a fixed ``--seed``, and the config's
own dataloader, model and ``VideoMetric`` do the rest (MMEngine's ``TestLoop`` on one runner, the
checkpoint loaded once). ``--split val`` (default) evaluates ``val_dataloader`` with
``val_evaluator``; ``--split test`` the test ones (a labeled subset is needed for AUC / ACC).

Outputs in ``--work-dir`` (default ``work_dirs/robustness/<config name>``):

* ``robustness.json``: the settings and every finished cell (AUC, ACC, clip counts, failures,
  seconds, all metrics), rewritten atomically after each cell. A rerun with the same settings
  skips finished cells (resumable); other settings are refused unless ``--restart``.
* ``robustness.md``: AUC and ACC tables (rows: perturbations; columns: levels and their mean),
  with the clean values.
* ``robustness_heatmap.png``: the same two tables as heatmaps.
* With ``--track2`` (the evaluated split's evaluator must hold a ``LocalizationMetric``, as the
  configs in configs/localization/ do): a third table and heatmap, the challenge's Track 2
  Score per cell.
* ``errors.jsonl``: every clip that could not be scored, with its cell (one perturbation
  failing on one clip does not stop the cell: the clip is left out of its metrics); per cell
  also ``cells/<cell>/errors.jsonl`` and ``scores.jsonl``.

Exit status: 0 when every cell finished and every clip was scored; 3 when some clips could not
be scored (all outputs are complete); 1 when a cell failed as a whole (rerun to retry it); 2 for
an unknown perturbation, a level outside 1..5, or ``--track2`` without a localisation metric.
"""

import os

# Idle OpenMP threads sleep instead of spinning (shared CPU cores); before torch is imported.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import matplotlib  # noqa: E402

matplotlib.use('Agg')  # plots are written to files, never shown

import argparse  # noqa: E402
import copy  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os.path as osp  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Dict, List, Optional, Sequence, Tuple  # noqa: E402

import numpy as np  # noqa: E402
from mmengine.config import Config, ConfigDict, DictAction  # noqa: E402
from tqdm import tqdm  # noqa: E402

from holaframe.apis import evaluator_setup  # noqa: E402
from holaframe.datasets.transforms.perturbations import (  # noqa: E402
    PERTURBATIONS,
    check_perturbation_names,
    insert_after_decoding,
    parse_levels,
)
from holaframe.engine.runner import build_runner, load_config  # noqa: E402
from holaframe.utils.atomic_io import atomic_open, atomic_write_text  # noqa: E402
from holaframe.utils.checkpoint import (  # noqa: E402
    allow_mmengine_checkpoints,
    is_url,
    set_unsafe_load,
)

CLEAN = 'clean'
STATE_FILE = 'robustness.json'
#: Key of the Track 2 Score in a cell's metrics (``LocalizationMetric``, default prefix).
TRACK2_KEY = 'track2/score'
#: Metrics of the tables: (key in a cell record, title, heatmap range).
TABLE_METRICS = (('auc', 'AUC', (0.5, 1.0)), ('acc', 'ACC (%)', (50.0, 100.0)))
TRACK2_METRIC = ('track2_score', 'Track 2 Score', (0.0, 1.0))


def check_track2(cfg: Config, config_path: str) -> None:
    """Raise ``ValueError`` with a clear message when the evaluated split has no
    ``LocalizationMetric``."""
    evaluator = cfg.test_evaluator
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    if not any(isinstance(m, dict) and str(m.get('type', '')).endswith('LocalizationMetric')
               for m in metrics):
        raise ValueError(
            f'robustness.py: --track2 reports the temporal-localisation Score (Track 2), but the '
            f'evaluator of {config_path} has no LocalizationMetric (it has '
            f'{[m.get("type") for m in metrics if isinstance(m, dict)]}); use a localisation '
            f'config (configs/localization/) or run without --track2')


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(
        description='Evaluate a checkpoint on the clean set and under every (perturbation, '
        'level) of the robustness protocol; writes robustness.json, robustness.md and '
        'robustness_heatmap.png')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file, DeepSpeed folder or http(s) URL')
    parser.add_argument('--perturb', nargs='+', metavar='NAME',
                        help='perturbations to evaluate (default: all): '
                        + ', '.join(PERTURBATIONS))
    parser.add_argument('--levels', default='1-5',
                        help='levels, e.g. 1-5 (default), 1,3,5 or 2')
    parser.add_argument('--split', choices=['val', 'test'], default='val',
                        help='evaluate val_dataloader/val_evaluator (default) or the test ones')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the perturbations (each clip gets its own stream)')
    parser.add_argument('--no-clean', action='store_true',
                        help='skip the unperturbed evaluation')
    parser.add_argument('--work-dir', help='output folder (default work_dirs/robustness/<config>)')
    parser.add_argument('--restart', action='store_true',
                        help='discard finished cells of other settings in the work dir')
    parser.add_argument('--track2', action='store_true',
                        help='also report the temporal-localisation Score (Track 2; the '
                        'evaluated split needs a LocalizationMetric)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='read the checkpoint with a full pickle load (trusted files only)')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- the grid
def grid(names: Sequence[str], levels: Sequence[int], clean: bool = True) -> List[Tuple]:
    """``(key, name, level)`` of every cell: ``clean`` first, then names x levels."""
    cells = [(CLEAN, None, 0)] if clean else []
    return cells + [(f'{n}/{lv}', n, lv) for n in names for lv in levels]


def split_config(cfg: Config, split: str, config_path: str) -> Config:
    """Make the evaluated split the config's test dataloader and evaluator."""
    if split == 'val':
        missing = [k for k in ('val_dataloader', 'val_evaluator') if not cfg.get(k)]
        if missing:
            raise SystemExit(f'robustness.py: {config_path} has no {" / ".join(missing)}; '
                             'use --split test to evaluate its test set')
        cfg.test_dataloader = copy.deepcopy(cfg.val_dataloader)
        cfg.test_evaluator = copy.deepcopy(cfg.val_evaluator)
    elif not cfg.get('test_dataloader') or not cfg.get('test_evaluator'):
        raise SystemExit(f'robustness.py: {config_path} has no test_dataloader / '
                         'test_evaluator')
    if cfg.get('test_cfg') is None:
        cfg.test_cfg = dict(type='TestLoop')
    # Dataloaders are built once per cell: no workers kept alive between cells.
    cfg.test_dataloader.persistent_workers = False
    return cfg


def cell_config(cfg: Config, name: Optional[str], level: int, seed: int, cell_dir: str,
                config_path: str) -> Config:
    """A copy of ``cfg`` whose test pipeline has the cell's perturbation after decoding and
    whose evaluator writes the cell's scores and error report (no ROC image)."""
    cell = copy.deepcopy(cfg)
    dataset = cell.test_dataloader.dataset
    if name is not None:
        transform = ConfigDict(type=PERTURBATIONS[name].__name__, level=level, seed=seed)
        try:
            dataset.pipeline = insert_after_decoding(dataset.pipeline, transform, config_path)
        except ValueError as e:
            raise SystemExit(f'robustness.py: {e}') from None
    evaluator = cell.test_evaluator
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    for metric in metrics:
        if isinstance(metric, dict) and str(metric.get('type', '')).endswith('VideoMetric'):
            metric['roc_file'] = None
    cell.test_evaluator = list(metrics)
    evaluator_setup.add_test_outputs(cell, cell_dir)
    return cell


def _metric(metrics: Dict, what: str) -> Optional[float]:
    """``video/<what>`` (else the first ``<prefix>/<what>``) of a metrics dict."""
    if f'video/{what}' in metrics:
        return float(metrics[f'video/{what}'])
    for key, value in metrics.items():
        parts = key.split('/')
        if len(parts) == 2 and parts[1] == what:
            return float(value)
    return None


def run_cell(runner, cell: Config, first: bool) -> Dict:
    """Evaluate one cell; the runner's own ``test()`` the first time (it loads the checkpoint),
    a new loop of the config's ``test_cfg`` on the same runner afterwards."""
    if first:
        return dict(runner.test() or {})
    from mmengine.runner import TestLoop

    from holaframe.registry import LOOPS
    loop_cfg = dict(cell.test_cfg or {})
    args = dict(runner=runner, dataloader=cell.test_dataloader, evaluator=cell.test_evaluator)
    loop = LOOPS.build(loop_cfg, default_args=args) if 'type' in loop_cfg else TestLoop(
        **loop_cfg, **args)
    try:
        return dict(loop.run() or {})
    finally:
        del loop
        gc.collect()


# ----------------------------------------------------------------------------- state
def settings_of(args: argparse.Namespace) -> Dict:
    """What finished cells depend on; a rerun with other settings does not reuse them."""
    ckpt = args.checkpoint
    stamp = None
    if not is_url(ckpt) and osp.isfile(ckpt):
        st = os.stat(ckpt)
        stamp = [st.st_size, st.st_mtime_ns]
    return dict(config=osp.abspath(args.config), checkpoint=ckpt if is_url(ckpt) else
                osp.abspath(ckpt), checkpoint_stat=stamp, split=args.split, seed=args.seed,
                cfg_options=_plain(args.cfg_options or {}))


def _plain(value):
    """A JSON-able copy (config values, tuples, numpy numbers)."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, 'item')
                                 else str(o)))


def load_state(path: str, settings: Dict, restart: bool) -> Dict:
    """The finished cells of an earlier run with the same settings (or a fresh state)."""
    fresh = dict(settings=settings, cells={})
    if not osp.isfile(path) or restart:
        return fresh
    try:
        with open(path) as f:
            state = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f'robustness.py: cannot read {path} ({e}); use --restart to start '
                         'over') from None
    old = state.get('settings', {})
    differ = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
    if differ:
        raise SystemExit(
            f'robustness.py: {path} holds cells computed with other settings ({", ".join(differ)}'
            f'): use --restart to discard them, or another --work-dir')
    state.setdefault('cells', {})
    state['settings'] = settings
    return state


def save_state(path: str, state: Dict) -> None:
    """Write the state atomically."""
    atomic_write_text(path, json.dumps(_plain(state), indent=1))


# ----------------------------------------------------------------------------- reports
def _cell_value(cell: Dict, metric: str) -> Optional[float]:
    """A cell's value of ``metric`` (the Track 2 Score also from its full metrics)."""
    value = cell.get(metric)
    if value is None and metric == TRACK2_METRIC[0]:
        value = cell.get('metrics', {}).get(TRACK2_KEY)
    return None if value is None else float(value)


def table_metrics(track2: bool = False) -> Tuple:
    """The metrics of the tables: AUC and ACC, and the Track 2 Score with ``track2``."""
    return TABLE_METRICS + ((TRACK2_METRIC, ) if track2 else ())


def summary(state: Dict, names: Sequence[str], levels: Sequence[int],
            track2: bool = False) -> Dict:
    """AUC and ACC (and the Track 2 Score) per (perturbation, level), the mean over levels,
    and the clean values."""
    cells = state['cells']
    table = {}
    for metric, _, _ in table_metrics(track2):
        rows = {}
        for name in names:
            values = [_cell_value(cells.get(f'{name}/{lv}', {}), metric) for lv in levels]
            done = [v for v in values if v is not None]
            rows[name] = dict(levels=dict(zip([str(lv) for lv in levels], values)),
                              mean=(float(np.mean(done)) if len(done) == len(levels) else None))
        table[metric] = dict(clean=_cell_value(cells.get(CLEAN, {}), metric), rows=rows)
    return table


def _fmt(value, metric: str) -> str:
    if value is None:
        return '-'
    return f'{value:.2f}' if metric == 'acc' else f'{value:.4f}'


def markdown(state: Dict, table: Dict, names: Sequence[str], levels: Sequence[int],
             track2: bool = False) -> str:
    """The tables as markdown."""
    s = state['settings']
    lines = [f'# Robustness: {osp.basename(s["config"])}', '',
             f'Checkpoint `{s["checkpoint"]}`, {s["split"]} split, perturbation seed '
             f'{s["seed"]}. AUC in [0, 1], ACC in percent; "mean" is over levels '
             f'{", ".join(map(str, levels))}; "-" is a cell not evaluated (or without a metric).',
             '']
    clean = state['cells'].get(CLEAN)
    if clean:
        score = (f', Track 2 Score {_fmt(clean.get("track2_score"), "track2_score")}'
                 if track2 else '')
        lines += [f'Clean: AUC {_fmt(clean.get("auc"), "auc")}, ACC '
                  f'{_fmt(clean.get("acc"), "acc")}{score} ({clean.get("num_clips", "?")} '
                  f'clips).', '']
    for metric, title, _ in table_metrics(track2):
        lines += [f'## {title}', '',
                  '| perturbation | parameter (levels ' + ', '.join(map(str, levels)) + ') | '
                  + ' | '.join(f'L{lv}' for lv in levels) + ' | mean |',
                  '|---|---|' + '---|' * (len(levels) + 1)]
        for name in names:
            cls = PERTURBATIONS[name]
            params = ', '.join(str(cls.levels[lv - 1]) for lv in levels)
            row = table[metric]['rows'][name]
            lines.append(f'| {name} | {cls.parameter}: {params} | '
                         + ' | '.join(_fmt(row['levels'][str(lv)], metric) for lv in levels)
                         + f' | {_fmt(row["mean"], metric)} |')
        lines.append('')
    failed = {k: c.get('num_failed', 0) for k, c in state['cells'].items() if c.get('num_failed')}
    broken = {k: c['error'] for k, c in state['cells'].items() if c.get('error')}
    if failed:
        lines += ['## Clips that could not be scored', '',
                  'Left out of their cell\'s metrics; listed in `errors.jsonl`.', '',
                  '| cell | clips |', '|---|---|']
        lines += [f'| {k} | {v} |' for k, v in failed.items()] + ['']
    if broken:
        lines += ['## Cells that failed', '', '| cell | error |', '|---|---|']
        lines += [f'| {k} | {v.splitlines()[0][:200]} |' for k, v in broken.items()] + ['']
    return '\n'.join(lines)


def write_heatmap(path: str, table: Dict, names: Sequence[str], levels: Sequence[int],
                  title: str, track2: bool = False) -> None:
    """The AUC and ACC (and Track 2 Score) heatmaps (levels and their mean)."""
    from holaframe.visualization import robustness_heatmap_figure, save_figure
    columns = [str(lv) for lv in levels] + ['mean']
    panels, clean, ranges = {}, {}, {}
    for metric, label, span in table_metrics(track2):
        ranges[label] = span
        rows = table[metric]['rows']
        panels[label] = np.array(
            [[np.nan if rows[n]['levels'][str(lv)] is None else rows[n]['levels'][str(lv)]
              for lv in levels] + [np.nan if rows[n]['mean'] is None else rows[n]['mean']]
             for n in names], dtype=np.float64)
        clean[label] = table[metric]['clean']
    fig = robustness_heatmap_figure(names, columns, panels, clean=clean, ranges=ranges,
                                    title=title)
    save_figure(fig, path)


def collect_errors(work_dir: str, keys: Sequence[str]) -> int:
    """Merge the cells' error reports into ``<work_dir>/errors.jsonl``; the number of lines."""
    count = 0
    with atomic_open(osp.join(work_dir, 'errors.jsonl')) as out:
        for key in keys:
            path = osp.join(cell_dir_of(work_dir, key), 'errors.jsonl')
            if not osp.isfile(path):
                continue
            with open(path) as f:
                for line in f:
                    if line.strip():
                        record = json.loads(line)
                        record['cell'] = key
                        out.write(json.dumps(record) + '\n')
                        count += 1
    return count


def cell_dir_of(work_dir: str, key: str) -> str:
    """The cell's output folder."""
    return osp.join(work_dir, 'cells', key.replace('/', '_level'))


def write_reports(work_dir: str, state: Dict, names: Sequence[str],
                  levels: Sequence[int], track2: bool = False) -> Dict:
    """Rewrite robustness.json (with the summary), robustness.md and the heatmap."""
    table = summary(state, names, levels, track2)
    state['summary'] = table
    save_state(osp.join(work_dir, STATE_FILE), state)
    atomic_write_text(osp.join(work_dir, 'robustness.md'),
                      markdown(state, table, names, levels, track2))
    write_heatmap(osp.join(work_dir, 'robustness_heatmap.png'), table, names, levels,
                  f'{osp.basename(state["settings"]["config"])} ({state["settings"]["split"]})',
                  track2)
    return table


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    """Run the grid; the exit status (see the module docstring)."""
    args = parse_args(argv)
    try:
        names = check_perturbation_names(args.perturb)
        levels = parse_levels(args.levels)
    except ValueError as e:
        print(f'robustness.py: {e}', file=sys.stderr)
        return 2
    set_unsafe_load(args.unsafe_load)
    if not is_url(args.checkpoint) and not osp.exists(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint not found: {args.checkpoint}')
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'robustness', osp.splitext(osp.basename(args.config))[0])
    os.makedirs(work_dir, exist_ok=True)
    state_path = osp.join(work_dir, STATE_FILE)
    state = load_state(state_path, settings_of(args), args.restart)
    cells = grid(names, levels, clean=not args.no_clean)
    pending = [c for c in cells if not state['cells'].get(c[0], {}).get('finished')]
    done = len(cells) - len(pending)
    print(f'robustness: {len(cells)} cells ({done} already finished in {state_path}), '
          f'{len(pending)} to evaluate', flush=True)

    cfg = load_config(args.config, args.cfg_options, 'none', work_dir)
    cfg = split_config(cfg, args.split, args.config)
    if args.track2:
        try:
            check_track2(cfg, args.config)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
    if pending:
        cfg.load_from = args.checkpoint
        cfg.resume = False
        runner = None
        bar = tqdm(pending, desc='robustness', unit='cell', file=sys.stderr)
        for key, name, level in bar:
            bar.set_postfix_str(key)
            cell_dir = cell_dir_of(work_dir, key)
            cell = cell_config(cfg, name, level, args.seed, cell_dir, args.config)
            start = time.perf_counter()
            first = runner is None
            try:
                with allow_mmengine_checkpoints():
                    if first:
                        runner = build_runner(cell)
                    metrics = run_cell(runner, cell, first)
            except Exception as e:  # one cell failing as a whole: record it, go on
                state['cells'][key] = dict(perturbation=name, level=level,
                                           error=f'{type(e).__name__}: {e}')
                print(f'robustness: cell {key} failed: {type(e).__name__}: {e}',
                      file=sys.stderr)
                write_reports(work_dir, state, names, levels, args.track2)
                if first:  # the runner or the checkpoint is unusable: stop here
                    raise
                continue
            record = dict(perturbation=name, level=level,
                          parameter=None if name is None else PERTURBATIONS[name].levels[
                              level - 1],
                          auc=_metric(metrics, 'auc'), acc=_metric(metrics, 'acc'),
                          track2_score=(float(metrics[TRACK2_KEY]) if TRACK2_KEY in metrics
                                        else None),
                          num_clips=metrics.get('video/num_clips'),
                          num_failed=int(metrics.get('errors/num_failed', 0) or 0),
                          seconds=round(time.perf_counter() - start, 1),
                          finished=time.strftime('%Y-%m-%d %H:%M:%S'),
                          metrics={k: v for k, v in _plain(metrics).items()})
            state['cells'][key] = record
            write_reports(work_dir, state, names, levels, args.track2)
            if record['auc'] is not None:
                bar.set_postfix_str(f'{key} AUC {record["auc"]:.4f}')
        bar.close()

    table = write_reports(work_dir, state, names, levels, args.track2)
    failed_clips = collect_errors(work_dir, [c[0] for c in cells])
    broken = [c[0] for c in cells if state['cells'].get(c[0], {}).get('error')]
    clean = table['auc']['clean']
    print(f'robustness: clean AUC {_fmt(clean, "auc")}; wrote {state_path}, '
          f'{osp.join(work_dir, "robustness.md")} and '
          f'{osp.join(work_dir, "robustness_heatmap.png")}')
    if broken:
        print(f'robustness: {len(broken)} cell(s) failed ({", ".join(broken)}); rerun to retry '
              'them', file=sys.stderr)
        return 1
    if failed_clips:
        print(f'robustness: {failed_clips} clip evaluation(s) could not be scored: see '
              f'{osp.join(work_dir, "errors.jsonl")}', file=sys.stderr)
        return 3
    return 0


if __name__ == '__main__':
    sys.exit(main())
