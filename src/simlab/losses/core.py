"""Loss components. Each works on embeddings and declares the data it expects.

All losses are called as ``loss(emb, targets, score_fn)`` where `emb` maps input names to ``(n, dim)``
embeddings (``a``/``b``, ``anchor``/``positive``/``negative`` or ``x``), `targets` maps ``label``/``score`` to
``(n,)`` tensors, and ``score_fn(a, b) -> (n,)`` is the model's similarity head.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from simlab.errors import ConfigError

ScoreFn = Callable[[Tensor, Tensor], Tensor]


class Loss(nn.Module):
    """Base class: `expects` lists the data kinds the loss can train on."""

    expects: tuple[str, ...] = ()

    def forward(self, emb: Mapping[str, Tensor], targets: Mapping[str, Tensor], score_fn: ScoreFn) -> Tensor:
        raise NotImplementedError


def _target(targets: Mapping[str, Tensor], *names: str) -> Tensor:
    for n in names:
        if n in targets:
            return targets[n].float()
    raise ConfigError(
        f"loss needs a target named {' or '.join(names)}; batch has {', '.join(targets) or 'none'}"
    )


class ContrastiveLoss(Loss):
    """Contrastive loss (Hadsell, Chopra & LeCun 2006).

    ``L = y d^2 + (1 - y) max(0, margin - d)^2`` with ``d = ||a - b||_2``, averaged over pairs.

    Args:
        margin: distance beyond which dissimilar pairs cost nothing.
        normalize: L2-normalise embeddings first (then ``d`` is in [0, 2]).
    """

    expects = ("binary_pairs",)

    def __init__(self, margin: float = 1.0, normalize: bool = True) -> None:
        super().__init__()
        self.margin, self.normalize = margin, normalize

    def forward(self, emb: Mapping[str, Tensor], targets: Mapping[str, Tensor], score_fn: ScoreFn) -> Tensor:
        a, b = emb["a"], emb["b"]
        if self.normalize:
            a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
        y = _target(targets, "label")
        d = (a - b).pow(2).sum(-1).clamp_min(1e-12).sqrt()
        return (y * d.pow(2) + (1 - y) * F.relu(self.margin - d).pow(2)).mean()


class ScoreMSELoss(Loss):
    """Mean squared error between the head's score and a target score (MaLSTM, Mueller & Thyagarajan 2016).

    Targets must be on the head's scale (e.g. relatedness rescaled to [0, 1] for ``exp(-||a-b||_1)``).
    """

    expects = ("scored_pairs", "binary_pairs")

    def forward(self, emb: Mapping[str, Tensor], targets: Mapping[str, Tensor], score_fn: ScoreFn) -> Tensor:
        return F.mse_loss(score_fn(emb["a"], emb["b"]), _target(targets, "score", "label"))


class CoSENTLoss(Loss):
    """CoSENT (Su 2022): ``log(1 + sum_{y_i > y_j} exp(scale (s_j - s_i)))`` over pairs in the batch.

    Only the order of the scores matters, so targets need no rescaling.
    """

    expects = ("scored_pairs", "binary_pairs")

    def __init__(self, scale: float = 20.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, emb: Mapping[str, Tensor], targets: Mapping[str, Tensor], score_fn: ScoreFn) -> Tensor:
        s = score_fn(emb["a"], emb["b"]) * self.scale
        y = _target(targets, "score", "label")
        diff = s[None, :] - s[:, None]  # diff[i, j] = s_j - s_i
        mask = (y[:, None] > y[None, :]).float()
        diff = diff - (1 - mask) * 1e12
        return torch.logsumexp(torch.cat([torch.zeros(1, device=s.device), diff.flatten()]), dim=0)


class TripletLoss(Loss):
    """Triplet margin loss (Schroff et al. 2015): ``max(0, d(a, p) - d(a, n) + margin)``.

    On ``triplets`` it uses the given triplets. On ``labelled`` data it forms triplets inside the batch:
    ``mining="all"`` (default, "batch-all") averages the loss over every (anchor, positive, negative) triplet
    that violates the margin; ``mining="hard"`` ("batch-hard", Hermans et al. 2017) keeps, per anchor, only
    the hardest positive and hardest negative. Batch-hard from a randomly initialised recurrent encoder tends
    to collapse: mean-pooled states start out nearly parallel (all cosine distances ~1e-4), and pulling the
    farthest positive in shrinks every distance to a constant embedding, where the loss sits at the margin
    with zero gradient (seen on GunPoint at batch sizes 8 and 32, with every distance and a soft margin). Use
    it to fine-tune an encoder that already separates the classes.

    Args:
        margin: required gap between positive and negative distances (unused with `soft`).
        distance: ``"chord"`` (Euclidean between L2-normalised embeddings, ``sqrt(2 - 2 cos)``; default),
            ``"cosine"`` (``1 - cos``, whose gradient vanishes for nearly parallel embeddings) or
            ``"euclidean"`` (raw embeddings).
        mining: ``"all"`` or ``"hard"`` (labelled batches only).
        soft: soft margin ``log(1 + exp(d(a, p) - d(a, n)))`` instead of the hinge (Hermans et al. 2017).
    """

    expects = ("triplets", "labelled")

    def __init__(
        self, margin: float = 0.2, distance: str = "cosine", mining: str = "hard", soft: bool = False
    ) -> None:
        super().__init__()
        if distance not in ("chord", "cosine", "euclidean"):
            raise ConfigError(f"unknown triplet distance {distance!r}; valid: chord, cosine, euclidean")
        if mining not in ("hard", "all"):
            raise ConfigError(f"unknown triplet mining {mining!r}; valid: hard, all")
        self.margin, self.distance, self.mining, self.soft = margin, distance, mining, soft

    def _hinge(self, z: Tensor) -> Tensor:
        return F.softplus(z) if self.soft else F.relu(z + self.margin)

    def _pdist(self, x: Tensor, y: Tensor) -> Tensor:
        if self.distance == "cosine":
            return 1 - F.normalize(x, dim=-1) @ F.normalize(y, dim=-1).T
        if self.distance == "chord":
            x, y = F.normalize(x, dim=-1), F.normalize(y, dim=-1)
        return (x.pow(2).sum(-1)[:, None] + y.pow(2).sum(-1)[None, :] - 2 * x @ y.T).clamp_min(1e-12).sqrt()

    def forward(self, emb: Mapping[str, Tensor], targets: Mapping[str, Tensor], score_fn: ScoreFn) -> Tensor:
        if "anchor" in emb:
            a, p, n = emb["anchor"], emb["positive"], emb["negative"]
            if self.distance == "chord":
                a, p, n = F.normalize(a, dim=-1), F.normalize(p, dim=-1), F.normalize(n, dim=-1)
            if self.distance == "cosine":
                dp = 1 - F.cosine_similarity(a, p, dim=-1)
                dn = 1 - F.cosine_similarity(a, n, dim=-1)
            else:
                dp, dn = (a - p).norm(dim=-1), (a - n).norm(dim=-1)
            return self._hinge(dp - dn).mean()
        x, y = emb["x"], targets["label"]
        d = self._pdist(x, x)
        same = y[:, None] == y[None, :]
        eye = torch.eye(len(y), dtype=torch.bool, device=x.device)
        pos = same & ~eye
        neg = ~same
        valid = pos.any(1) & neg.any(1)
        if not valid.any():
            return x.sum() * 0.0
        if self.mining == "all":
            total, count = x.sum() * 0.0, 0
            step = max(1, (1 << 22) // (len(y) * len(y)))  # anchors per block: at most ~4M triplets at once
            for s in range(0, len(y), step):
                z = d[s : s + step, :, None] - d[s : s + step, None, :]  # z[i, p, n] = d(i, p) - d(i, n)
                viol = self._hinge(z)[pos[s : s + step, :, None] & neg[s : s + step, None, :]]
                active = viol > 1e-12
                total = total + viol[active].sum()
                count += int(active.sum())
            return total / max(count, 1)
        hardest_pos = torch.where(pos, d, torch.full_like(d, -1e9)).max(1).values
        hardest_neg = torch.where(neg, d, torch.full_like(d, 1e9)).min(1).values
        return self._hinge(hardest_pos - hardest_neg)[valid].mean()


class InfoNCELoss(Loss):
    """In-batch negatives / InfoNCE (van den Oord et al. 2018; "multiple negatives ranking").

    For ``positive_pairs`` (a_i, b_i), every other b_j in the batch is a negative; the loss is the symmetric
    cross-entropy of ``cos(a, b) / temperature``. On ``labelled`` data every same-label item is a positive
    (supervised contrastive, Khosla et al. 2020).
    """

    expects = ("positive_pairs", "labelled")

    def __init__(self, temperature: float = 0.05) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, emb: Mapping[str, Tensor], targets: Mapping[str, Tensor], score_fn: ScoreFn) -> Tensor:
        if "a" in emb:
            a, b = F.normalize(emb["a"], dim=-1), F.normalize(emb["b"], dim=-1)
            logits = a @ b.T / self.temperature
            labels = torch.arange(len(a), device=a.device)
            return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        x = F.normalize(emb["x"], dim=-1)
        y = targets["label"]
        logits = x @ x.T / self.temperature
        eye = torch.eye(len(y), dtype=torch.bool, device=x.device)
        logits = logits.masked_fill(eye, -1e9)
        pos = (y[:, None] == y[None, :]) & ~eye
        log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        n_pos = pos.sum(1)
        ok = n_pos > 0
        if not ok.any():
            return x.sum() * 0.0
        return -((log_prob * pos).sum(1)[ok] / n_pos[ok]).mean()
