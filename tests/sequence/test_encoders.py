from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simlab.errors import ConfigError  # noqa: E402
from simlab.sequence.encoders import RNNEncoder, SeriesFrontend, SiameseNet, collate_ids, collate_series  # noqa: E402


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_changes_an_embedding(cell, pooling, bidirectional):
    torch.manual_seed(0)
    net = SiameseNet(
        SeriesFrontend(2, "series", mask_channel=True),
        RNNEncoder(4, 8, cell, layers=2, bidirectional=bidirectional, pooling=pooling, downsample=2),
    )
    net.eval()
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(n, 2)).astype(np.float32) for n in (5, 17, 9)]
    series[1][3, 0] = np.nan
    with torch.no_grad():
        batch = net.encode(collate_series(series))
        alone = torch.cat([net.encode(collate_series([s])) for s in series])
    torch.testing.assert_close(batch, alone, atol=1e-5, rtol=1e-5)


def test_token_padding_invariance():
    from simlab.sequence.encoders import TokenFrontend

    torch.manual_seed(0)
    net = SiameseNet(
        TokenFrontend(20, 6), RNNEncoder(6, 5, "lstm", bidirectional=True, pooling="last")
    ).eval()
    ids = [[2, 3, 4], [5, 6, 7, 8, 9, 10, 11], [12]]
    with torch.no_grad():
        batch = net.encode(collate_ids(ids))
        alone = torch.cat([net.encode(collate_ids([i])) for i in ids])
    torch.testing.assert_close(batch, alone, atol=1e-5, rtol=1e-5)


def test_nan_is_imputed_never_propagated():
    front = SeriesFrontend(2, "global", mask_channel=True)
    x = np.array([[np.nan, 1.0], [2.0, np.nan], [np.nan, np.nan], [4.0, 3.0]], np.float32)
    front.set_stats([x])
    inp = collate_series([x, x[:2]])
    out = front(inp["x"], inp["lengths"])
    assert torch.isfinite(out).all()
    assert out.shape == (2, 4, 4)
    # mask channels say what was observed; padding is zero
    assert out[0, :, 2].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert (out[1, 2:] == 0).all()
    # imputation: leading gap takes the first observation, inner gap the last one (normalised values)
    z = (np.array([2.0, 2.0, 2.0, 4.0]) - 3.0) / 1.0
    np.testing.assert_allclose(out[0, :, 0].numpy(), z, atol=1e-6)


def test_bad_encoder_settings():
    with pytest.raises(ConfigError, match="valid: rnn, lstm, gru"):
        RNNEncoder(3, cell="transformer")
    with pytest.raises(ConfigError, match="pooling"):
        RNNEncoder(3, pooling="sum")
