"""Trained fusions: a gating network over views, and two (or more) towers aligned with InfoNCE.

Both train with the shared loop (:func:`simlab.train.fit`) and a registered loss (:mod:`simlab.losses`).

- :class:`GatedFusion` (``method="learned"``): each view ``x_v`` is L2-normalised and projected
  (``h_v = normalize(P_v x_v)``, or ``h_v = normalize(x_v)`` with ``dim=None``); a gate gives per-item weights
  ``g = softmax(G([h_1..h_V, present]))`` over the present views (``gate="network"``: a small MLP, "mixture of
  experts" style; ``gate="weights"``: one learnt weight per view); the fused vector is
  ``concat_v sqrt(g_v) h_v``, so ``cos`` of two items is ``sum_v sqrt(g_av g_bv) cos(h_av, h_bv)`` as in
  :func:`simlab.fuse.concat_views`. Trained on labelled items (supervised contrastive InfoNCE, Khosla et al.
  2020) or on pairs (contrastive loss).
- :class:`Towers` (``method="contrastive"``): one MLP tower per view into a shared space, trained so that the
  two views of the same item match (CLIP, Radford et al. 2021: symmetric InfoNCE over in-batch negatives).
  One view retrieves the other (cross-modal search); an item's fused vector is the mean of the towers of its
  present views, so a missing view is stood in for by the aligned tower of a present one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from simlab.errors import ConfigError


class GatedFusion(nn.Module):
    """Per-item gated fusion of view vectors.

    Args:
        dims: input size of each view.
        dim: projection size (None: no projection, then the gate learns view weights over the raw views).
        hidden: gate MLP width.
        gate: ``network`` or ``weights``.
    """

    def __init__(
        self, dims: Sequence[int], dim: int | None = 64, hidden: int = 64, gate: str = "network"
    ) -> None:
        super().__init__()
        if gate not in ("network", "weights"):
            raise ConfigError(f"unknown gate {gate!r}; valid: network, weights")
        self.dims, self.dim, self.gate_kind = list(dims), dim, gate
        self.proj = nn.ModuleList([nn.Linear(d, dim) for d in dims]) if dim else None
        width = sum(self.out_dims)
        self.gate = (
            nn.Sequential(nn.Linear(width + len(dims), hidden), nn.ReLU(), nn.Linear(hidden, len(dims)))
            if gate == "network"
            else None
        )
        self.logits = nn.Parameter(torch.zeros(len(dims)))

    @property
    def out_dims(self) -> list[int]:
        return [self.dim] * len(self.dims) if self.dim else list(self.dims)

    def views(self, xs: Sequence[Tensor]) -> list[Tensor]:
        """``h_v`` of each view, ``(n, d_v')``, unit rows."""
        hs = [F.normalize(x, dim=-1) for x in xs]
        if self.proj is not None:
            hs = [F.normalize(p(h), dim=-1) for p, h in zip(self.proj, hs, strict=True)]
        return hs

    def weights(self, hs: Sequence[Tensor], present: Tensor) -> Tensor:
        """Per-item gate ``(n, V)`` over the present views (rows sum to 1)."""
        mask = present.bool()
        if self.gate is not None:
            inp = torch.cat([h * mask[:, i : i + 1] for i, h in enumerate(hs)] + [mask.float()], -1)
            logits = self.gate(inp) + self.logits
        else:
            logits = self.logits.expand(len(mask), -1)
        return torch.softmax(logits.masked_fill(~mask, -1e9), -1) * mask

    def forward(self, xs: Sequence[Tensor], present: Tensor) -> Tensor:
        hs = self.views(xs)
        g = self.weights(hs, present)
        return torch.cat([torch.sqrt(g[:, i : i + 1] + 1e-12) * h for i, h in enumerate(hs)], -1)


class Towers(nn.Module):
    """One MLP tower per view into a shared `dim`-space (unit vectors).

    Args:
        dims: input size of each view.
        dim: shared embedding size.
        hidden: tower width.
    """

    def __init__(self, dims: Sequence[int], dim: int = 64, hidden: int = 128) -> None:
        super().__init__()
        self.dims, self.dim = list(dims), dim
        self.towers = nn.ModuleList(
            [nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, dim)) for d in dims]
        )

    def tower(self, v: int, x: Tensor) -> Tensor:
        """Embedding of view `v`'s vectors in the shared space, ``(n, dim)`` unit rows."""
        return F.normalize(self.towers[v](F.normalize(x, dim=-1)), dim=-1)

    def forward(self, xs: Sequence[Tensor], present: Tensor) -> Tensor:
        mask = present.float()
        zs = torch.stack([self.tower(v, x) for v, x in enumerate(xs)], 1)  # (n, V, dim)
        return F.normalize((zs * mask[..., None]).sum(1), dim=-1)

    def pair_loss(self, loss: nn.Module, xs: Sequence[Tensor], present: Tensor) -> Tensor:
        """Sum over view pairs of `loss` on the items that have both views (positive pairs)."""
        total = xs[0].sum() * 0.0
        for u, v in itertools.combinations(range(len(xs)), 2):
            both = present[:, u].bool() & present[:, v].bool()
            if int(both.sum()) < 2:
                continue
            emb = {"a": self.tower(u, xs[u][both]), "b": self.tower(v, xs[v][both])}
            total = total + loss(emb, {}, lambda a, b: (a * b).sum(-1))
        return total
