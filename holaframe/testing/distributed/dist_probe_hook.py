"""``DistProbeHook``: what the multi-process tests compare, written per rank."""

import json
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from holaframe.registry import HOOKS

from .fingerprints import model_digest, optimizer_digest


@HOOKS.register_module()
class DistProbeHook(Hook):
    """Record data order, losses and state fingerprints to ``work_dir/probe_rank{r}.json``.

    Before a test run it writes the evaluated model's fingerprint to
    ``work_dir/probe_test_rank{r}.json``.
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.record: Dict = dict(iters=[], states={}, start=None, end=None)

    @staticmethod
    def _state(runner) -> dict:
        optim = runner.optim_wrapper.optimizer
        return dict(
            iter=runner.iter, model=model_digest(runner.model), optim=optimizer_digest(optim))

    def before_train(self, runner) -> None:
        self.record['start'] = self._state(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.record['states'][str(runner.iter)] = self._state(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        files = [s.metainfo.get('file', s.metainfo.get('sample_idx'))
                 for s in data_batch['data_samples']]
        self.record['iters'].append(
            dict(iter=runner.iter, files=files, loss=float(outputs['loss'])))

    def before_test(self, runner) -> None:
        # After load_from: the weights every rank evaluates with.
        with open(osp.join(runner.work_dir, f'probe_test_rank{get_rank()}.json'), 'w') as f:
            json.dump(dict(model=model_digest(runner.model)), f)

    def after_train(self, runner) -> None:
        self.record['end'] = self._state(runner)
        with open(osp.join(runner.work_dir, f'probe_rank{get_rank()}.json'), 'w') as f:
            json.dump(self.record, f)
