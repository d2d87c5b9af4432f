"""The shared training loop and the loss components, checked against direct formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from simlab.errors import ConfigError, DataError  # noqa: E402
from simlab.losses.core import ContrastiveLoss, CoSENTLoss, InfoNCELoss, ScoreMSELoss, TripletLoss  # noqa: E402
from simlab.registry import LOSSES  # noqa: E402
from simlab.train import Batch, TrainConfig, fit, resolve_device, siamese_step  # noqa: E402


def cos(a, b):
    return F.cosine_similarity(a, b, dim=-1)


@pytest.fixture
def emb():
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)


def test_losses_by_name():
    assert isinstance(LOSSES.get("cosent")(), CoSENTLoss)
    assert LOSSES.get("mnrl") is InfoNCELoss
    for name in LOSSES.names():
        assert LOSSES.get(name).expects


def test_contrastive_formula(emb):
    a, b = emb
    y = torch.tensor([1, 0, 1, 0, 1, 0.0])
    loss = ContrastiveLoss(margin=0.8, normalize=False)({"a": a, "b": b}, {"label": y}, cos)
    d = [float(torch.norm(a[i] - b[i])) for i in range(6)]
    ref = np.mean([d[i] ** 2 if y[i] else max(0, 0.8 - d[i]) ** 2 for i in range(6)])
    assert float(loss) == pytest.approx(ref, rel=1e-5)


def test_mse_formula(emb):
    a, b = emb
    y = torch.linspace(0, 1, 6)
    loss = ScoreMSELoss()({"a": a, "b": b}, {"score": y}, cos)
    assert float(loss) == pytest.approx(float(((cos(a, b) - y) ** 2).mean()), rel=1e-6)


def test_cosent_formula(emb):
    a, b = emb
    y = torch.tensor([0.1, 0.9, 0.5, 0.5, 0.3, 0.7])
    s = cos(a, b) * 20
    terms = [math.exp(float(s[j] - s[i])) for i in range(6) for j in range(6) if y[i] > y[j]]
    ref = math.log(1 + sum(terms))
    assert float(CoSENTLoss(20)({"a": a, "b": b}, {"score": y}, cos)) == pytest.approx(ref, rel=1e-5)


def test_triplet_given_and_batch_hard(emb):
    a, b = emb
    n = a.flip(0)
    loss = TripletLoss(margin=0.3, distance="euclidean")({"anchor": a, "positive": b, "negative": n}, {}, cos)
    ref = torch.relu((a - b).norm(dim=1) - (a - n).norm(dim=1) + 0.3).mean()
    assert float(loss) == pytest.approx(float(ref), rel=1e-5)
    x = torch.cat([a, b])
    y = torch.tensor([0, 0, 1, 1, 2, 2] * 2)
    d = torch.cdist(x, x)
    vals = []
    for i in range(12):
        pos = [j for j in range(12) if y[j] == y[i] and j != i]
        neg = [j for j in range(12) if y[j] != y[i]]
        vals.append(max(0.0, float(d[i, pos].max() - d[i, neg].min()) + 0.3))
    got = TripletLoss(margin=0.3, distance="euclidean")({"x": x}, {"label": y}, cos)
    assert float(got) == pytest.approx(np.mean(vals), rel=1e-4)


def test_infonce_pairs_formula(emb):
    a, b = emb
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / 0.1
    lab = torch.arange(6)
    ref = (F.cross_entropy(logits, lab) + F.cross_entropy(logits.T, lab)) / 2
    assert float(InfoNCELoss(0.1)({"a": a, "b": b}, {}, cos)) == pytest.approx(float(ref), rel=1e-5)


class TinySiamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 8))

    def encode(self, x):
        return self.enc(x)

    def score(self, a, b):
        return F.cosine_similarity(a, b, dim=-1)


def _pairs(seed, n=512):
    # label 1 when both points lie on the same side of the line x0 = x1 (not linearly easy in raw cosine)
    g = np.random.default_rng(seed)
    xa, xb = g.normal(size=(n, 2)), g.normal(size=(n, 2))
    y = ((xa[:, 0] > xa[:, 1]) == (xb[:, 0] > xb[:, 1])).astype(np.float32)
    return torch.tensor(xa, dtype=torch.float32), torch.tensor(xb, dtype=torch.float32), torch.tensor(y)


def _batches(xa, xb, y, bs=64):
    def gen(epoch):
        perm = torch.randperm(len(y))
        for s in range(0, len(y), bs):
            i = perm[s : s + bs]
            yield Batch("binary_pairs", {"a": xa[i], "b": xb[i]}, {"label": y[i]}, len(i))

    return gen


def _acc(model, xa, xb, y):
    with torch.no_grad():
        s = model.score(model.encode(xa), model.encode(xb))
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y.numpy(), s.numpy()))


def test_fit_learns_and_keeps_best_and_is_reproducible(tmp_path):
    xa, xb, y = _pairs(0)
    da, db, dy = _pairs(1)
    loss = LOSSES.get("contrastive")(margin=1.0)
    results = []
    for _ in range(2):
        torch.manual_seed(0)  # initialisation is the caller's; fit seeds the training itself
        model = TinySiamese()
        hist = fit(
            model,
            _batches(xa, xb, y),
            siamese_step(loss),
            TrainConfig(epochs=40, lr=0.02, seed=3, patience=10, progress=False),
            dev_metric=lambda m: _acc(m, da, db, dy),
            checkpoint=tmp_path / "best.safetensors",
            data_kind="binary_pairs",
            loss=loss,
        )
        results.append((hist.best_dev, [e.loss for e in hist.epochs]))
        assert _acc(model, da, db, dy) == pytest.approx(hist.best_dev)
    assert results[0] == results[1]  # same seed, same run
    assert results[0][0] > 0.9  # ROC-AUC; chance is 0.5
    assert (tmp_path / "best.safetensors").exists()
    from safetensors.torch import load_file

    state = load_file(str(tmp_path / "best.safetensors"))
    assert set(state) == set(TinySiamese().state_dict())


def test_fit_checks_data_kind_and_empty_data():
    loss = LOSSES.get("cosent")()
    with pytest.raises(
        ConfigError, match="expects scored_pairs or binary_pairs data, but the training data is triplets"
    ):
        fit(
            TinySiamese(),
            lambda e: [],
            siamese_step(loss),
            TrainConfig(epochs=1, progress=False),
            data_kind="triplets",
            loss=loss,
        )
    with pytest.raises(DataError, match="no training batches"):
        fit(TinySiamese(), lambda e: [], siamese_step(loss), TrainConfig(epochs=1, progress=False))


def test_config_validation_and_device():
    with pytest.raises(ConfigError):
        TrainConfig(epochs=0)
    with pytest.raises(ConfigError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_device("cuda")
