"""Long loops show a progress bar: synthetic data generation and pseudo-label prediction."""

import json

from holaframe.testing import generate_synthetic_avdf


def test_make_synthetic_avdf_shows_progress(tmp_path, capfd):
    import runpy
    from pathlib import Path
    tool = runpy.run_path(str(Path(__file__).resolve().parents[2] / 'tools' / 'data' /
                              'make_synthetic_avdf.py'), run_name='make_synthetic_avdf')
    tool['main']([str(tmp_path / 'a'), '--train', '2', '--val', '1', '--testA', '1',
                  '--testB', '1', '--silent', '0', '--frame-size', '32',
                  '--min-duration', '2.5', '--max-duration', '2.5'])
    err = capfd.readouterr().err
    assert 'synthetic clips' in err and '5/5' in err
    # Library calls stay quiet unless asked.
    generate_synthetic_avdf(str(tmp_path / 'b'), 1, 0, 0, 0, num_silent=0, frame_size=32,
                            duration_range=(2.5, 2.5))
    assert 'synthetic clips' not in capfd.readouterr().err
    assert json.loads((tmp_path / 'b' / 'train_metadata.json').read_text())
