"""Pseudo-supervised signal injection (HOLA Sec. 3.3) as a training hook."""

import copy
import json
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import DefaultSampler
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook
from mmengine.utils import mkdir_or_exist
from torch.utils.data import ConcatDataset, DataLoader, Dataset
from tqdm import tqdm

from holaframe.engine.runner.train_state import rng_preserved
from holaframe.evaluation.records import get_field, to_float
from holaframe.registry import HOOKS
from holaframe.utils.atomic_io import atomic_open

CHECKPOINT_KEY = 'pseudo_label'


class PseudoLabeledSubset(Dataset):
    """The pseudo-labelled clips of an unlabeled dataset, with their predicted labels.

    Not registered: built by :class:`PseudoLabelHook`. The label is looked up by the ``file`` of
    the sample the dataset returns, so a dataset that replaces an unreadable clip by another one
    can never attach a label to the wrong clip.

    Args:
        dataset (Dataset): The unlabeled dataset with the training pipeline.
        indices (Sequence[int]): Indices of the selected clips in ``dataset``.
        labels (dict): ``file`` -> pseudo-label (0 real, 1 fake).
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int], labels: Dict[str, int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)
        self.labels = dict(labels)

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo."""
        return copy.deepcopy(getattr(self.dataset, 'metainfo', {}))

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> dict:
        data = self.dataset[self.indices[idx]]
        sample = data['data_samples']
        file = sample.metainfo.get('file')
        if file not in self.labels:
            raise KeyError(f'PseudoLabeledSubset: the dataset returned {file!r} for index '
                           f'{self.indices[idx]}, which has no pseudo-label (was the clip '
                           'replaced because it could not be read?).')
        sample.gt_label = torch.tensor([self.labels[file]], dtype=torch.long)
        sample.set_metainfo(dict(pseudo_label=True))
        return data


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Pseudo-supervised signal injection: train in rounds, adding confident test predictions.

    Training (epoch-based) is cut into ``num_rounds + 1`` stages: stage 0 (``initial_epochs``
    epochs) trains on the labeled data, stages ``1 .. num_rounds`` have ``epochs_per_round``
    epochs each, so ``max_epochs = initial_epochs + num_rounds * epochs_per_round``. Before stage
    ``r`` (``r = 1 .. num_rounds``) the current
    model predicts the unlabeled subset; every clip whose confidence for either class reaches
    ``threshold`` (fake: ``p >= threshold``; real: ``1 - p >= threshold``, computed in float32
    from the fake probability ``p``) gets that class as its pseudo-label, and the next stage
    trains on the labeled data plus these clips. By default the set is re-selected each round
    from the current model (``accumulate=False``); with ``accumulate=True`` a clip keeps its last
    confident label once selected. The paper's setting is 5 rounds with confidence exactly 1,
    which is ``threshold=1.0`` on float32 probabilities.

    Logged per round (and kept in ``history``): pseudo-labels per class, how many were added,
    dropped and changed label since the previous round, and the last validation AUC (the one of
    the model that made the predictions). Each round's labels are also written to
    ``<work_dir>/pseudo_labels/round_<r>.jsonl``. The state (round, pseudo-label set, history) is
    saved in every checkpoint under ``'pseudo_label'`` (plain types only, so it loads with
    ``weights_only=True``), and ``--resume`` continues with the same round and set; a plain
    ``load_from`` does not restore it. Prediction leaves the global random state as it was.

    Parameter schedulers should be epoch-based without ``convert_to_iter_based``: the number of
    iterations per epoch grows with the pseudo-labelled clips (``CosineRestartLR`` with one
    period per stage restarts the learning rate at each round).

    Args:
        unlabeled_dataloader (dict): Dataloader config (test pipeline, no shuffling) of the
            unlabeled subset to predict, e.g. testA.
        train_dataset (dict, optional): The same subset (same files) with the training pipeline;
            default: train on the prediction dataset itself.
        num_rounds (int): Number of pseudo-labelling rounds R.
        epochs_per_round (int, optional): Epochs of each pseudo-labelling stage; default
            ``(max_epochs - initial_epochs) // R``, or ``max_epochs // (R + 1)`` when
            ``initial_epochs`` is not given either.
        initial_epochs (int, optional): Epochs of stage 0 (labeled data only); default
            ``epochs_per_round``. ``0`` runs the rounds only, on top of a model that was
            fine-tuned before (``load_from``): round 1 starts with the first epoch.
        threshold (float): Confidence required for a pseudo-label, in (0.5, 1].
        accumulate (bool): Keep earlier pseudo-labels that are no longer confident.
        metric_key (str): Validation metric logged per round.
        progress (bool): Show a progress bar while the unlabeled subset is predicted (rank 0,
            on standard error). Defaults to True.
    """

    priority = 'ABOVE_NORMAL'  # before DistSamplerSeedHook sets the epoch of the new sampler

    def __init__(self,
                 unlabeled_dataloader: dict,
                 train_dataset: Optional[dict] = None,
                 num_rounds: int = 5,
                 epochs_per_round: Optional[int] = None,
                 initial_epochs: Optional[int] = None,
                 threshold: float = 1.0,
                 accumulate: bool = False,
                 metric_key: str = 'video/auc',
                 progress: bool = True) -> None:
        if not 0.5 < threshold <= 1.0:
            raise ValueError(f'PseudoLabelHook: threshold must be in (0.5, 1], got {threshold}')
        if num_rounds < 1:
            raise ValueError(f'PseudoLabelHook: num_rounds must be >= 1, got {num_rounds}')
        self.unlabeled_dataloader_cfg = copy.deepcopy(unlabeled_dataloader)
        self.train_dataset_cfg = copy.deepcopy(train_dataset)
        self.num_rounds = num_rounds
        self.epochs_per_round = epochs_per_round
        self.initial_epochs = initial_epochs
        self.threshold = float(threshold)
        self.accumulate = accumulate
        self.metric_key = metric_key
        self.progress = progress
        # State saved in checkpoints.
        self.round = 0
        self.labels: Dict[str, int] = {}
        self.history: List[dict] = []
        # Runtime.
        self._last_val: Dict[str, Any] = {}
        self._predict_loader: Optional[DataLoader] = None
        self._train_set: Optional[Dataset] = None
        self._base_dataset: Optional[Dataset] = None
        self._installed_round = -1

    # ------------------------------------------------------------------ schedule
    def _check_schedule(self, runner) -> None:
        max_epochs = getattr(runner.train_loop, 'max_epochs', None)
        if max_epochs is None:
            raise TypeError('PseudoLabelHook needs an epoch-based training loop '
                            '(train_cfg=dict(by_epoch=True, ...)).')
        rounds = self.num_rounds
        if self.epochs_per_round is None:
            if self.initial_epochs is None:
                if max_epochs % (rounds + 1):
                    raise ValueError(
                        f'PseudoLabelHook: max_epochs={max_epochs} is not divisible into '
                        f'{rounds + 1} stages (num_rounds={rounds} + the initial one); set '
                        'epochs_per_round / initial_epochs or max_epochs.')
                self.epochs_per_round = max_epochs // (rounds + 1)
            else:
                self.epochs_per_round = (max_epochs - self.initial_epochs) // rounds
        if self.initial_epochs is None:
            self.initial_epochs = self.epochs_per_round
        total = self.initial_epochs + rounds * self.epochs_per_round
        if self.epochs_per_round < 1 or self.initial_epochs < 0 or total != max_epochs:
            raise ValueError(
                f'PseudoLabelHook: max_epochs={max_epochs} must equal initial_epochs '
                f'({self.initial_epochs}) + num_rounds ({rounds}) x epochs_per_round '
                f'({self.epochs_per_round}) = {total}, with at least one epoch per round.')

    def _stage(self, epoch: int) -> int:
        """The stage (number of pseudo-labelling rounds done) that ``epoch`` belongs to."""
        if epoch < self.initial_epochs:
            return 0
        return min(1 + (epoch - self.initial_epochs) // self.epochs_per_round, self.num_rounds)

    # ------------------------------------------------------------------ hook points
    def before_train(self, runner) -> None:
        """Check the schedule, build the unlabeled data, re-install a resumed set."""
        self._check_schedule(runner)
        self._base_dataset = runner.train_loop.dataloader.dataset
        if self.labels:  # resumed in the middle of a round
            self._install(runner)
            runner.logger.info(f'PseudoLabelHook: resumed at round {self.round} with '
                               f'{len(self.labels)} pseudo-labels.')

    def before_train_epoch(self, runner) -> None:
        """At the start of stage r, predict the unlabeled set and inject the pseudo-labels."""
        target = self._stage(runner.epoch)
        if target <= self.round:
            return
        scores = self._predict(runner)
        previous = dict(self.labels)
        selected = self._select(scores)
        if self.accumulate:
            merged = dict(previous)
            merged.update(selected)
            selected = merged
        self.labels = selected
        self.round = target
        self._log_round(runner, previous, scores)
        self._install(runner)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Remember the latest validation metrics for the round log."""
        self._last_val = dict(metrics or {})

    def after_train(self, runner) -> None:
        """Log the validation metric of the final stage."""
        value = self._last_val.get(self.metric_key)
        if value is not None:
            runner.logger.info(f'PseudoLabelHook: final {self.metric_key} = {value:.4f} after '
                               f'{self.round} round(s).')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Save round, pseudo-labels and history (plain Python types)."""
        files = sorted(self.labels)
        checkpoint[CHECKPOINT_KEY] = dict(
            round=int(self.round),
            files=files,
            labels=[int(self.labels[f]) for f in files],
            history=copy.deepcopy(self.history),
            threshold=self.threshold)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the state saved by :meth:`before_save_checkpoint`, on ``resume`` only.

        A plain ``load_from`` (fine-tuning from another run's weights) starts with no
        pseudo-labels: a new run never inherits another run's labels.
        """
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None:
            return
        if not getattr(runner, '_resume', False):
            runner.logger.info('PseudoLabelHook: the loaded checkpoint has pseudo-label state '
                               '(round {}); not restored because this run does not resume.'
                               .format(state.get('round')))
            return
        self.round = int(state['round'])
        self.labels = dict(zip(state['files'], (int(v) for v in state['labels'])))
        self.history = list(state.get('history', []))

    # ------------------------------------------------------------------ helpers
    def _predict(self, runner) -> Dict[str, float]:
        """Fake probability of every unlabeled clip (all ranks get all clips)."""
        if self._predict_loader is None:
            seed = getattr(runner, 'seed', None)
            self._predict_loader = runner.build_dataloader(
                copy.deepcopy(self.unlabeled_dataloader_cfg), seed=seed)
        model = runner.model
        model.eval()
        records = []
        # Prediction does not move the training random streams (exact resumption, see
        # TrainStateHook).
        with torch.no_grad(), rng_preserved():
            batches = tqdm(self._predict_loader, desc=f'pseudo-labels round {self.round + 1}',
                           unit='batch', disable=not is_main_process() or not self.progress,
                           file=sys.stderr, leave=False)
            for batch in batches:
                for sample in model.test_step(batch):
                    if get_field(sample, 'load_error') is not None:
                        continue  # unreadable clip (dataset placeholder): never a pseudo-label
                    file = get_field(sample, 'file')
                    if file is None:
                        raise KeyError('PseudoLabelHook: unlabeled samples need a `file` '
                                       'metainfo.')
                    records.append((str(file), to_float(get_field(sample, 'pred_score'))))
        model.train()
        scores: Dict[str, float] = {}
        for part in all_gather_object(records):
            for file, score in part:
                scores.setdefault(file, score)  # sampler padding repeats clips
        return scores

    def _select(self, scores: Dict[str, float]) -> Dict[str, int]:
        """Clips whose confidence for either class reaches the threshold."""
        if not scores:
            return {}
        files = sorted(scores)
        p_fake = np.array([scores[f] for f in files], dtype=np.float32)
        p_real = np.float32(1.0) - p_fake  # float32, so 1 - 1e-9 rounds to exactly 1.0
        thr = np.float32(self.threshold)
        out = {}
        for file, fake, real in zip(files, p_fake >= thr, p_real >= thr):
            if fake:
                out[file] = 1
            elif real:
                out[file] = 0
        return out

    def _log_round(self, runner, previous: Dict[str, int], scores: Dict[str, float]) -> None:
        """Log and remember the statistics of the round just selected."""
        common = set(previous) & set(self.labels)
        entry = dict(
            round=self.round,
            epoch=runner.epoch,
            num_unlabeled=len(scores),
            num_real=sum(1 for v in self.labels.values() if v == 0),
            num_fake=sum(1 for v in self.labels.values() if v == 1),
            added=len(set(self.labels) - set(previous)),
            dropped=len(set(previous) - set(self.labels)),
            changed=sum(1 for f in common if previous[f] != self.labels[f]),
            val_metric=self._last_val.get(self.metric_key))
        self.history.append(entry)
        val = entry['val_metric']
        val_txt = 'n/a' if val is None else f'{val:.4f}'
        runner.logger.info(
            f'PseudoLabelHook round {self.round}/{self.num_rounds}: {len(self.labels)} of '
            f'{len(scores)} unlabeled clips pseudo-labelled (real {entry["num_real"]}, fake '
            f'{entry["num_fake"]}); added {entry["added"]}, dropped {entry["dropped"]}, changed '
            f'{entry["changed"]}; {self.metric_key} before the round = {val_txt}')
        for key in ('num_real', 'num_fake', 'added', 'dropped', 'changed'):
            runner.message_hub.update_scalar(f'pseudo/{key}', entry[key])
        if is_main_process():
            out_dir = osp.join(runner.work_dir, 'pseudo_labels')
            mkdir_or_exist(out_dir)
            with atomic_open(osp.join(out_dir, f'round_{self.round}.jsonl')) as f:
                for file in sorted(self.labels):
                    f.write(json.dumps(dict(file=file, label=self.labels[file],
                                            score=scores.get(file))) + '\n')

    def _unlabeled_train_set(self, runner) -> Dataset:
        if self._train_set is None:
            if self.train_dataset_cfg is None:
                if self._predict_loader is None:
                    self._predict_loader = runner.build_dataloader(
                        copy.deepcopy(self.unlabeled_dataloader_cfg),
                        seed=getattr(runner, 'seed', None))
                self._train_set = self._predict_loader.dataset
            else:
                from holaframe.registry import DATASETS
                self._train_set = DATASETS.build(copy.deepcopy(self.train_dataset_cfg))
                if hasattr(self._train_set, 'full_init'):
                    self._train_set.full_init()
        return self._train_set

    def _install(self, runner) -> None:
        """Train on the labeled data plus the current pseudo-labelled clips."""
        if self._installed_round == self.round:
            return
        train_set = self._unlabeled_train_set(runner)
        index_of = {}
        for idx in range(len(train_set)):
            file = train_set.get_data_info(idx).get('file')
            index_of[str(file)] = idx
        missing = [f for f in self.labels if f not in index_of]
        if missing:
            raise KeyError(f'PseudoLabelHook: {len(missing)} pseudo-labelled file(s) are not in '
                           f'the unlabeled training dataset (e.g. {missing[:3]}).')
        indices = [index_of[f] for f in sorted(self.labels, key=index_of.get)]
        datasets = [self._base_dataset]
        if indices:
            datasets.append(PseudoLabeledSubset(train_set, indices, self.labels))
        dataset = ConcatDataset(datasets)
        dataset.metainfo = getattr(self._base_dataset, 'metainfo', {})
        loop = runner.train_loop
        old = loop.dataloader
        sampler = old.sampler
        if not isinstance(sampler, DefaultSampler):
            raise TypeError('PseudoLabelHook needs the DefaultSampler in the train dataloader, '
                            f'got {type(sampler).__name__}.')
        new_sampler = DefaultSampler(
            dataset, shuffle=sampler.shuffle, seed=sampler.seed, round_up=sampler.round_up)
        new_sampler.set_epoch(runner.epoch)
        loop.dataloader = DataLoader(
            dataset,
            batch_size=old.batch_size,
            sampler=new_sampler,
            num_workers=old.num_workers,
            collate_fn=old.collate_fn,
            pin_memory=old.pin_memory,
            drop_last=old.drop_last,
            worker_init_fn=old.worker_init_fn,
            generator=old.generator,
            persistent_workers=old.persistent_workers if old.num_workers > 0 else False)
        # Keep the ETA / iteration bookkeeping consistent with the longer epochs.
        remaining = loop.max_epochs - runner.epoch
        loop._max_iters = runner.iter + remaining * len(loop.dataloader)
        self._installed_round = self.round
        runner.logger.info(f'PseudoLabelHook: training set = {len(self._base_dataset)} labeled '
                           f'+ {len(indices)} pseudo-labelled clips.')
