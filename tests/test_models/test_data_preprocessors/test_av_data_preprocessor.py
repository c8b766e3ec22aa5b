"""AVDataPreprocessor: stacking, normalisation, has_audio."""

import pytest
import torch

from holaframe.models.data_preprocessors import AVDataPreprocessor
from holaframe.structures import AVDataSample


def test_stack_normalise_and_has_audio():
    pre = AVDataPreprocessor(mean=[10.0, 20.0, 30.0], std=[2.0, 4.0, 5.0])
    video = [torch.full((3, 4, 8, 8), 50, dtype=torch.uint8) for _ in range(2)]
    audio = [torch.randn(4, 32), torch.full((4, 32), float('nan'))]
    samples = [AVDataSample(metainfo=dict(has_audio=True)),
               AVDataSample(metainfo=dict(has_audio=False))]
    out = pre(dict(inputs=dict(video=video, audio=audio), data_samples=samples))
    inp = out['inputs']
    assert inp['video'].shape == (2, 3, 4, 8, 8) and inp['video'].dtype == torch.float32
    torch.testing.assert_close(inp['video'][0, :, 0, 0, 0], torch.tensor([20.0, 7.5, 4.0]))
    assert inp['has_audio'].tolist() == [True, False]
    assert torch.isfinite(inp['audio']).all() and inp['audio'][1].abs().sum() == 0
    torch.testing.assert_close(inp['audio'][0], audio[0])
    assert [s.has_audio for s in out['data_samples']] == [True, False]


def test_list_of_dicts_and_default_has_audio():
    pre = AVDataPreprocessor()
    data = dict(inputs=[dict(video=torch.zeros(3, 2, 4, 4), audio=torch.zeros(2, 5))] * 3,
                data_samples=None)
    out = pre(data)
    assert out['inputs']['has_audio'].tolist() == [True] * 3
    assert out['inputs']['audio'].shape == (3, 2, 5)


def test_errors_name_the_file():
    pre = AVDataPreprocessor()
    with pytest.raises(ValueError, match='av_data_preprocessor.py'):
        pre(dict(inputs=dict(video=[torch.zeros(3, 2, 4, 4), torch.zeros(3, 3, 4, 4)],
                             audio=[torch.zeros(2), torch.zeros(2)])))
    with pytest.raises(KeyError, match='audio'):
        pre(dict(inputs=dict(video=[torch.zeros(3, 2, 4, 4)])))
    with pytest.raises(ValueError, match='mean and std'):
        AVDataPreprocessor(mean=[0.0])
