"""Exact resumption: random state, position in the epoch and a plain-data message hub in every
training checkpoint."""

import copy
from typing import Any, Dict, Optional

import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

from holaframe.engine.runner.train_state import (
    SamplerCursor,
    capture_rng_state,
    message_hub_from_plain,
    message_hub_to_plain,
    restore_rng_state,
)
from holaframe.registry import HOOKS
from holaframe.utils.checkpoint import to_plain

CHECKPOINT_KEY = 'train_state'


@HOOKS.register_module()
class TrainStateHook(Hook):
    """Save and restore what a resumed run needs to continue exactly like an uninterrupted one.

    Added to every runner by :func:`holaframe.engine.runner.build_runner`. Each checkpoint gets,
    under ``'train_state'`` (plain data, loads with ``weights_only=True``):

    * the Python, NumPy and torch (CPU and CUDA) random states of every rank, captured where the
      checkpoint is taken (after the training iteration / epoch);
    * the position: epoch, iteration and the batches of the current epoch already trained.

    and its ``message_hub`` is stored as plain numbers instead of MMEngine ``HistoryBuffer``
    objects (converted back when loaded). On ``resume`` (never on a plain ``load_from``):

    * ``EpochBasedTrainLoop``: the batches of the interrupted epoch that were trained are skipped
      at the sampler (their samples are not loaded), and the random state is restored right
      before the first remaining index is drawn;
    * ``IterBasedTrainLoop``: MMEngine replays the dataloader up to the saved iteration; the
      random state is restored right before the next index is drawn.

    Between a checkpoint and the next drawn index nothing may consume the global random state
    differently in a resumed run, so validation runs with the random state preserved
    (:func:`holaframe.engine.runner.train_state.rng_preserved`), and the train dataloader gets
    its own generator for the seeds of its iterators. Exactness needs ``num_workers=0`` or a
    pipeline without random transforms: dataloader workers restart their own random streams
    when a run resumes.
    """

    priority = 'LOW'  # after_train_* before CheckpointHook (VERY_LOW)

    def __init__(self) -> None:
        self._snapshot: Optional[Dict[str, Any]] = None
        self._pending: Optional[Dict[str, Any]] = None
        self._loader = None
        self._cursor: Optional[SamplerCursor] = None
        self._epoch_offset = 0
        self._val_rng: Optional[Dict[str, Any]] = None

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _checkpoint_hook(runner) -> Optional[CheckpointHook]:
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook):
                return hook
        return None

    def _gather(self, position: Dict[str, int]) -> Dict[str, Any]:
        local = capture_rng_state()
        world = get_world_size()
        states = all_gather_object(local) if world > 1 else [local]
        return dict(position=position, rng=states, world_size=world)

    def _wrap(self, runner) -> None:
        """Put a :class:`SamplerCursor` under the current train dataloader's batch sampler."""
        loader = runner.train_loop.dataloader
        if loader is self._loader:
            return
        previous = self._cursor
        self._loader, self._cursor = loader, None
        if getattr(loader, 'generator', None) is None:
            # Iterator seeds come from this generator, not from the global torch state.
            gen = torch.Generator()
            gen.manual_seed(int(getattr(runner, 'seed', None) or 0))
            loader.generator = gen
        batch_sampler = getattr(loader, 'batch_sampler', None)
        if batch_sampler is None or not hasattr(batch_sampler, 'sampler'):
            return
        if not isinstance(batch_sampler.sampler, SamplerCursor):
            batch_sampler.sampler = SamplerCursor(batch_sampler.sampler)
        self._cursor = batch_sampler.sampler
        if previous is not None and previous.on_first_draw is not None:
            # A new loader (e.g. pseudo-labelled data added) before the resumed stream started.
            self._cursor.skip, self._cursor.draw_at = previous.skip, previous.draw_at
            self._cursor.on_first_draw, previous.on_first_draw = previous.on_first_draw, None

    @staticmethod
    def _batch_size(loader) -> int:
        batch_sampler = getattr(loader, 'batch_sampler', None)
        return int(getattr(batch_sampler, 'batch_size', None) or loader.batch_size or 1)

    @staticmethod
    def _indices_for_batches(loader, batches: int) -> int:
        """Indices a batch sampler draws for ``batches`` batches, epochs restarting."""
        size = TrainStateHook._batch_size(loader)
        try:
            per_epoch = len(loader.sampler)
        except TypeError:  # infinite sampler
            return batches * size
        drop_last = bool(getattr(loader.batch_sampler, 'drop_last', False))
        per_epoch_batches = per_epoch // size if drop_last else -(-per_epoch // size)
        if per_epoch_batches == 0:
            return 0
        epochs, rest = divmod(batches, per_epoch_batches)
        return epochs * per_epoch + rest * size

    def _restore_pending(self, runner) -> None:
        pending, self._pending = self._pending, None
        world, rank = get_world_size(), get_rank()
        states = pending.get('rng') or []
        position = pending.get('position', {})
        if len(states) != world:
            runner.logger.warning(
                f'TrainStateHook: the checkpoint holds the random state of {len(states)} '
                f'process(es), this run has {world}; the random streams restart instead of '
                'continuing.')
            restore = None
        else:
            state = states[rank]

            def restore():
                restore_rng_state(state)

        if (position.get('epoch') != runner.epoch or position.get('iter') != runner.iter):
            runner.logger.warning(
                f'TrainStateHook: the saved position {position} is not where the run resumes '
                f'(epoch {runner.epoch}, iter {runner.iter}); the data position is not '
                'restored.')
            if restore is not None:
                restore()
            return
        loop = runner.train_loop
        if self._cursor is None:
            runner.logger.warning('TrainStateHook: the train dataloader has no batch sampler; '
                                  'the data position and random state are not restored.')
            return
        batches = int(position.get('batches', 0))
        if isinstance(loop, EpochBasedTrainLoop):
            if batches and pending.get('world_size') != world:
                runner.logger.warning('TrainStateHook: another number of processes; the '
                                      'interrupted epoch restarts from its first batch.')
                batches = 0
            self._cursor.skip = batches * self._batch_size(loop.dataloader)
            self._cursor.draw_at = 0
            self._epoch_offset = batches
            if batches:
                runner.logger.info(f'TrainStateHook: resuming epoch {runner.epoch + 1} after '
                                   f'its first {batches} batches.')
        elif isinstance(loop, IterBasedTrainLoop):
            self._cursor.draw_at = self._indices_for_batches(loop.dataloader, runner.iter)
        else:
            runner.logger.warning(f'TrainStateHook: {type(loop).__name__} is neither epoch- '
                                  'nor iteration-based; the random state is restored at once.')
            if restore is not None:
                restore()
            return
        self._cursor.on_first_draw = restore

    # ------------------------------------------------------------------ hook points
    def before_train(self, runner) -> None:
        """Wrap the sampler; on resume, schedule the skip and the random-state restore."""
        self._wrap(runner)
        if self._pending is not None:
            self._restore_pending(runner)

    def before_train_epoch(self, runner) -> None:
        """Wrap a train dataloader installed since the last epoch (e.g. pseudo-labels)."""
        self._wrap(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Capture the random state when an iteration checkpoint follows."""
        batches = self._epoch_offset + batch_idx + 1
        ckpt = self._checkpoint_hook(runner)
        if ckpt is None or ckpt.by_epoch:
            return
        if ckpt.every_n_train_iters(runner, ckpt.interval, ckpt.save_begin) or (
                ckpt.save_last and ckpt.is_last_train_iter(runner)):
            self._snapshot = self._gather(
                dict(epoch=runner.epoch, iter=runner.iter + 1, batches=batches))

    def after_train_epoch(self, runner) -> None:
        """Capture the random state at the end of every epoch (one small collective)."""
        self._epoch_offset = 0
        self._snapshot = self._gather(dict(epoch=runner.epoch + 1, iter=runner.iter, batches=0))

    def before_val(self, runner) -> None:
        """Validation must not move the training random streams."""
        self._val_rng = capture_rng_state()

    def after_val(self, runner) -> None:
        """Restore the random state of before the validation."""
        if self._val_rng is not None:
            restore_rng_state(self._val_rng)
            self._val_rng = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the train state; message hub and meta as plain data."""
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = message_hub_to_plain(checkpoint['message_hub'])
        meta = checkpoint.get('meta')
        if isinstance(meta, dict):
            checkpoint['meta'] = to_plain(meta)
            meta = checkpoint['meta']
        else:
            meta = {}
        snapshot = self._snapshot
        if snapshot is not None:
            position = snapshot['position']
            if (position['epoch'], position['iter']) != (meta.get('epoch'), meta.get('iter')):
                snapshot = None
        if snapshot is None:  # saved outside the CheckpointHook schedule: this rank only
            snapshot = dict(position=dict(epoch=meta.get('epoch'), iter=meta.get('iter'),
                                          batches=0),
                            rng=[capture_rng_state()], world_size=1)
        checkpoint[CHECKPOINT_KEY] = copy.deepcopy(snapshot)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Turn the plain message hub back into MMEngine's; keep the train state for resume."""
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = message_hub_from_plain(checkpoint['message_hub'])
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is not None and getattr(runner, '_resume', False):
            self._pending = state
