"""Encoder factories registered in ``ENCODERS`` as ``rnn``, ``lstm``, ``gru``.

Each returns an :class:`~simlab.sequence.encoders.RNNEncoder` ``(n, T, input_dim), lengths -> (n, dim)``.
"""

from __future__ import annotations

from typing import Any


def _make(cell: str, input_dim: int, **kwargs: Any) -> Any:
    from simlab.sequence.encoders import RNNEncoder

    return RNNEncoder(input_dim, cell=cell, **kwargs)


def rnn(input_dim: int, **kwargs: Any) -> Any:
    """Elman RNN encoder (tanh)."""
    return _make("rnn", input_dim, **kwargs)


def lstm(input_dim: int, **kwargs: Any) -> Any:
    """LSTM encoder."""
    return _make("lstm", input_dim, **kwargs)


def gru(input_dim: int, **kwargs: Any) -> Any:
    """GRU encoder."""
    return _make("gru", input_dim, **kwargs)
