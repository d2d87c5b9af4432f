"""Recurrent sequence encoders (torch): RNN / LSTM / GRU cells, pooling, series and token front ends.

Variable lengths are handled with packing (``pack_padded_sequence``) for the recurrence and with length masks
for pooling, so padding never changes a sequence's embedding. Numeric series go through
:class:`SeriesFrontend` (normalisation, NaN imputation and an optional mask channel); text goes through
:class:`TokenFrontend` (an embedding layer initialised from a :class:`simlab.Vectors`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from simlab.errors import ConfigError, DataError, DimensionError

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("last", "mean", "max", "attention")


def length_mask(lengths: Tensor, max_len: int) -> Tensor:
    """``(n,)`` lengths -> ``(n, max_len)`` bool mask, True on real steps."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class RNNEncoder(nn.Module):
    """A recurrent encoder ``(n, T, d_in)`` + lengths -> ``(n, dim)``.

    Args:
        input_dim: features per step.
        hidden: hidden size per direction.
        cell: ``rnn`` (Elman, tanh), ``lstm`` (Hochreiter & Schmidhuber 1997) or ``gru`` (Cho et al. 2014).
        layers: stacked layers.
        bidirectional: run a second recurrence backwards and concatenate (``dim = 2 * hidden``).
        dropout: dropout between stacked layers and on the pooled output.
        pooling: ``last`` (final hidden state, both directions), ``mean`` / ``max`` over real steps, or
            ``attention`` (``softmax_t(v^T tanh(W h_t))``-weighted sum, Bahdanau-style self-attention).
        downsample: average non-overlapping windows of this many steps before the recurrence (long series).
    """

    def __init__(
        self,
        input_dim: int,
        hidden: int = 64,
        cell: str = "gru",
        layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        pooling: str = "last",
        downsample: int = 1,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ConfigError(f"unknown cell {cell!r}; valid: {', '.join(CELLS)}")
        if pooling not in POOLINGS:
            raise ConfigError(f"unknown pooling {pooling!r}; valid: {', '.join(POOLINGS)}")
        if hidden < 1 or layers < 1 or downsample < 1:
            raise ConfigError("hidden, layers and downsample must be >= 1")
        if not 0 <= dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.cell, self.pooling, self.downsample = cell, pooling, downsample
        self.bidirectional = bidirectional
        self.rnn = CELLS[cell](
            input_dim,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.dim = hidden * (2 if bidirectional else 1)
        self.drop = nn.Dropout(dropout)
        if pooling == "attention":
            self.att = nn.Sequential(
                nn.Linear(self.dim, self.dim), nn.Tanh(), nn.Linear(self.dim, 1, bias=False)
            )

    def _downsample(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        k = self.downsample
        n, t, d = x.shape
        pad = (-t) % k
        if pad:
            x = F.pad(x, (0, 0, 0, pad))
        m = length_mask(lengths, t + pad).to(x.dtype)
        xs = (x * m[..., None]).reshape(n, -1, k, d).sum(2)
        cnt = m.reshape(n, -1, k).sum(2).clamp_min(1)
        return xs / cnt[..., None], (lengths + k - 1) // k

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """Encode a padded batch.

        Args:
            x: ``(n, T, input_dim)`` float, padding positions arbitrary (they are never read).
            lengths: ``(n,)`` int, each >= 1.

        Returns:
            ``(n, dim)`` embeddings.
        """
        if self.downsample > 1:
            x, lengths = self._downsample(x, lengths)
        t = x.shape[1]
        equal = bool((lengths == t).all())
        if equal:  # no padding at all: packing would change nothing, skip its cost
            out, h = self.rnn(x)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, h = self.rnn(packed)
        if self.pooling == "last":
            h_n = h[0] if isinstance(h, tuple) else h  # (layers * dirs, n, hidden)
            pooled = torch.cat([h_n[-2], h_n[-1]], dim=-1) if self.bidirectional else h_n[-1]
        elif equal and self.pooling in ("mean", "max"):  # no padding: plain reductions, no masks
            pooled = out.mean(1) if self.pooling == "mean" else out.max(1).values
        else:
            seq = out if equal else pad_packed_sequence(out, batch_first=True, total_length=t)[0]
            mask = length_mask(lengths.to(seq.device), t)
            if self.pooling == "mean":
                pooled = (seq * mask[..., None]).sum(1) / lengths.to(seq.device)[:, None].to(seq.dtype)
            elif self.pooling == "max":
                pooled = seq.masked_fill(~mask[..., None], float("-inf")).max(1).values
            else:
                w = self.att(seq).squeeze(-1).masked_fill(~mask, float("-inf"))
                pooled = (torch.softmax(w, dim=1)[..., None] * seq).sum(1)
        return self.drop(pooled)


class SeriesFrontend(nn.Module):
    """Numeric series -> recurrent input: normalisation, NaN imputation and an optional mask channel.

    Missing values (NaN) are imputed by carrying the last observation forward (the first observation backward
    for leading gaps; the channel mean when a channel of a series has no observation at all), and, with
    `mask_channel`, one 0/1 "observed" channel per input channel is appended. NaN never reaches the network.

    Args:
        channels: input channels.
        normalize: ``global`` (per-channel mean/std of the training data, stored as buffers), ``series``
            (z-normalise each series and channel on its own) or ``none``.
        mask_channel: append observed-indicator channels.
    """

    def __init__(self, channels: int, normalize: str = "global", mask_channel: bool = False) -> None:
        super().__init__()
        if normalize not in ("global", "series", "none"):
            raise ConfigError(f"unknown normalize {normalize!r}; valid: global, series, none")
        self.channels, self.normalize, self.mask_channel = channels, normalize, mask_channel
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))
        self.out_dim = channels * (2 if mask_channel else 1)

    def set_stats(self, series: list[np.ndarray]) -> None:
        """Set the global per-channel mean/std from training series (NaN ignored)."""
        allv = np.concatenate(series, axis=0).astype(np.float64)
        mean = np.nanmean(allv, axis=0)
        std = np.nanstd(allv, axis=0)
        std = np.where(np.isfinite(std) & (std > 1e-8), std, 1.0)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """``(n, T, C)`` with NaN -> ``(n, T, out_dim)`` finite, zero on padding."""
        n, t, c = x.shape
        if c != self.channels:
            raise DimensionError(f"series have {c} channels, the model was trained on {self.channels}")
        valid = length_mask(lengths.to(x.device), t)[..., None]
        obs = ~torch.isnan(x) & valid
        if self.normalize == "global":
            x = (x - self.mean) / self.std
        elif self.normalize == "series":
            w = obs.to(x.dtype)
            cnt = w.sum(1, keepdim=True).clamp_min(1)
            xz = torch.where(obs, x, torch.zeros_like(x))
            mu = xz.sum(1, keepdim=True) / cnt
            var = (((xz - mu) * w) ** 2).sum(1, keepdim=True) / cnt
            sd = var.sqrt()
            x = (x - mu) / torch.where(sd > 1e-8, sd, torch.ones_like(sd))
        if bool(obs.eq(valid).all()):  # nothing missing: no imputation needed
            filled = torch.where(valid, x, torch.zeros_like(x))
            if self.mask_channel:
                filled = torch.cat([filled, obs.to(filled.dtype)], dim=-1)
            return filled
        # forward fill: index of the last observation at or before t
        steps = torch.arange(t, device=x.device)[None, :, None].expand(n, t, c)
        last = torch.where(obs, steps, torch.full_like(steps, -1)).cummax(1).values
        # backward fill for leading gaps: index of the first observation at or after t
        big = torch.full_like(steps, t)
        nxt = torch.where(obs, steps, big).flip(1).cummin(1).values.flip(1)
        src = torch.where(last >= 0, last, nxt).clamp(max=t - 1)
        filled = torch.gather(torch.where(obs, x, torch.zeros_like(x)), 1, src)
        has_any = obs.any(1, keepdim=True)
        filled = torch.where(has_any, filled, torch.zeros_like(filled))  # channel never observed: the mean
        filled = filled * valid
        if self.mask_channel:
            filled = torch.cat([filled, obs.to(filled.dtype)], dim=-1)
        return filled


class TokenFrontend(nn.Module):
    """Token ids -> word vectors. Row 0 is padding (zeros), row 1 the unknown token.

    Args:
        vocab_size: rows including ``<pad>`` and ``<unk>``.
        dim: embedding dimension.
        freeze: keep the embedding fixed (the ``<unk>`` row stays zero).
    """

    def __init__(self, vocab_size: int, dim: int, freeze: bool = True) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.emb.weight.requires_grad_(not freeze)
        self.out_dim = dim

    def load_vectors(self, matrix: np.ndarray) -> None:
        """Initialise rows 2.. from a ``(vocab_size - 2, dim)`` matrix; pad and unk rows are zero."""
        if matrix.shape != (self.emb.num_embeddings - 2, self.emb.embedding_dim):
            raise DimensionError(
                f"vectors of shape {matrix.shape} do not fit an embedding of "
                f"{self.emb.num_embeddings - 2} words x {self.emb.embedding_dim} dims"
            )
        with torch.no_grad():
            self.emb.weight.zero_()
            self.emb.weight[2:] = torch.as_tensor(matrix, dtype=torch.float32)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        return self.emb(ids)


class Heads:
    """Similarity heads ``(n, d), (n, d) -> (n,)``."""

    @staticmethod
    def cosine(a: Tensor, b: Tensor) -> Tensor:
        """Cosine similarity in [-1, 1]."""
        return F.cosine_similarity(a, b, dim=-1, eps=1e-8)

    @staticmethod
    def malstm(a: Tensor, b: Tensor) -> Tensor:
        """``exp(-||a - b||_1)`` in (0, 1] (Mueller & Thyagarajan 2016, "Siamese recurrent architectures")."""
        return torch.exp(-(a - b).abs().sum(-1))


class LearnedHead(nn.Module):
    """``sigmoid(MLP([|a - b|, a * b]))`` in (0, 1) (the feature pair of Tai et al. 2015 / InferSent)."""

    def __init__(self, dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(2 * dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return torch.sigmoid(self.mlp(torch.cat([(a - b).abs(), a * b], dim=-1))).squeeze(-1)


HEADS = ("cosine", "malstm", "learned")


class SiameseNet(nn.Module):
    """One shared encoder for both sides of a pair, plus a similarity head.

    ``encode(inputs) -> (n, dim)`` and ``score(a, b) -> (n,)`` are what :func:`simlab.train.siamese_step`
    and the losses use. `inputs` is ``{"x": (n, T, C) float or (n, T) long ids, "lengths": (n,)}``.
    """

    def __init__(self, frontend: nn.Module, encoder: RNNEncoder, head: str = "cosine") -> None:
        super().__init__()
        if head not in HEADS:
            raise ConfigError(f"unknown head {head!r}; valid: {', '.join(HEADS)}")
        self.frontend, self.encoder, self.head_name = frontend, encoder, head
        self.head = LearnedHead(encoder.dim) if head == "learned" else None
        self.dim = encoder.dim

    def encode(self, inputs: dict[str, Any]) -> Tensor:
        x, lengths = inputs["x"], inputs["lengths"]
        return self.encoder(self.frontend(x, lengths), lengths)

    def score(self, a: Tensor, b: Tensor) -> Tensor:
        if self.head is not None:
            return self.head(a, b)
        return Heads.malstm(a, b) if self.head_name == "malstm" else Heads.cosine(a, b)

    def pairwise_score(self, a: Tensor, b: Tensor, chunk: int = 4096) -> Tensor:
        """``(n, d), (m, d) -> (n, m)`` head scores, in blocks."""
        if self.head_name == "cosine":
            return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
        if self.head_name == "malstm":
            return torch.exp(-torch.cdist(a, b, p=1))
        out = torch.empty(a.shape[0], b.shape[0], device=a.device)
        rows = max(1, chunk // max(1, b.shape[0]))
        for i in range(0, a.shape[0], rows):
            aa = a[i : i + rows]
            r = aa.shape[0]
            s = self.score(
                aa[:, None, :].expand(r, b.shape[0], -1).reshape(-1, a.shape[1]),
                b[None].expand(r, -1, -1).reshape(-1, b.shape[1]),
            )
            out[i : i + r] = s.reshape(r, b.shape[0])
        return out


def collate_series(series: list[np.ndarray]) -> dict[str, Tensor]:
    """List of ``(len_i, C)`` arrays -> ``{"x": (n, T, C) NaN-padded float32, "lengths": (n,)}``."""
    if not series:
        raise DataError("no series to encode")
    lens = np.array([len(s) for s in series])
    if (lens == 0).any():
        raise DataError(f"empty sequence at position {int(np.argmin(lens))}")
    x = np.full((len(series), int(lens.max()), series[0].shape[1]), np.nan, np.float32)
    for i, s in enumerate(series):
        x[i, : len(s)] = s
    return {"x": torch.from_numpy(x), "lengths": torch.from_numpy(lens.astype(np.int64))}


def collate_ids(ids: list[list[int]]) -> dict[str, Tensor]:
    """List of token-id lists -> ``{"x": (n, T) long, zero-padded, "lengths": (n,)}``."""
    lens = np.array([len(s) for s in ids])
    if (lens == 0).any():
        raise DataError(f"empty sequence at position {int(np.argmin(lens))}")
    x = np.zeros((len(ids), int(lens.max())), np.int64)
    for i, s in enumerate(ids):
        x[i, : len(s)] = s
    return {"x": torch.from_numpy(x), "lengths": torch.from_numpy(lens.astype(np.int64))}


def encode_prepared(net: SiameseNet, featurizer: Any, prepared: Any, batch_size: int = 1024) -> Tensor:
    """``(n, dim)`` float CPU embeddings of items prepared by a featurizer
    (:mod:`simlab.sequence.featurizers`), in eval mode (the net's mode is restored): one stacked pass per
    chunk when all have one length, else length-sorted padded batches."""
    dev = next(net.parameters()).device
    was_training = net.training
    net.eval()
    stacked = featurizer.stack(prepared)
    if stacked is not None:
        # equal lengths: stack directly (no NaN padding, sorting or scatter); the encoder skips packing and
        # masks when nothing is padded
        x = torch.from_numpy(stacked).to(dev)
        lengths = torch.full((len(x),), x.shape[1], dtype=torch.int64, device=dev)
        with torch.inference_mode():
            parts = [
                net.encode({"x": x[s : s + batch_size], "lengths": lengths[s : s + batch_size]}).float().cpu()
                for s in range(0, len(x), batch_size)
            ]
            out = torch.cat(parts)
        net.train(was_training)
        return out.clone()  # a normal tensor (inference tensors cannot enter autograd later)
    order = np.argsort([len(p) for p in prepared], kind="stable")
    out = torch.empty(len(prepared), net.dim)
    with torch.inference_mode():
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            inp = {k: v.to(dev) for k, v in featurizer.collate([prepared[i] for i in idx]).items()}
            out[torch.as_tensor(idx)] = net.encode(inp).float().cpu()
    net.train(was_training)
    return out
