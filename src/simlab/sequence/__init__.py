"""Sequences: Siamese RNN / LSTM / GRU encoders for numeric series and sentences.

This module only registers components by ``"module:attr"`` strings; importing it never imports torch.
Use ``from simlab.sequence.model import SiameseModel`` (or ``simlab.sequence.SiameseModel``, resolved lazily).
"""

from __future__ import annotations

from simlab._deps import lazy_attributes
from simlab.registry import ENCODERS, EVALUATORS, KINDS, MODELS

_E = "simlab.sequence.encoders_factory"
ENCODERS.register(
    "rnn", f"{_E}:rnn", help="Elman RNN sequence encoder (series or tokens), shared Siamese weights"
)
ENCODERS.register("lstm", f"{_E}:lstm", help="LSTM sequence encoder (MaLSTM: Mueller & Thyagarajan 2016)")
ENCODERS.register("gru", f"{_E}:gru", help="GRU sequence encoder (Cho et al. 2014)")
KINDS.register(
    "sequence-siamese",
    "simlab.sequence.model:SiameseModel",
    aliases=("sequence_siamese", "sequence-siamese"),
    help="Siamese RNN/LSTM/GRU model for series or sentences",
)
MODELS.register(
    "siamese",
    "simlab.sequence.model:SiameseModel",
    aliases=("sequence_siamese",),
    help="Siamese recurrent model (series or sentence pairs)",
)
_V = "simlab.sequence.evaluation"
EVALUATORS.register(
    "sick", f"{_V}:eval_sick", help="SICK relatedness test (4,927 pairs): Pearson, Spearman, MSE"
)
EVALUATORS.register(
    "stsb",
    f"{_V}:eval_stsb",
    aliases=("sts-b",),
    help="STS Benchmark test (1,379 pairs): Spearman, Pearson, MSE",
)
EVALUATORS.register(
    "ucr",
    f"{_V}:eval_ucr",
    help="ucr:NAME 1-NN accuracy (learned vs Euclidean vs DTW) on a bundled UCR/UEA dataset",
)
EVALUATORS.register(
    "knn",
    f"{_V}:eval_knn",
    help="knn:TEST_FILE --train TRAIN_FILE: 1-NN accuracy (model vs Euclidean vs DTW) on any labelled split",
)
EVALUATORS.register(
    "retrieval",
    f"{_V}:eval_retrieval",
    help="retrieval:ucr:NAME / retrieval:sick: recall@k and MRR of encoder + index",
)
EVALUATORS.register(
    "pairs",
    f"{_V}:eval_pairs",
    help="pairs:FILE: Pearson/Spearman of a model's scores on a scored pairs file",
)

_LAZY = {
    "SiameseModel": "simlab.sequence.model",
    "SiameseConfig": "simlab.sequence.model",
    "SeriesDataset": "simlab.sequence.data",
    "PairDataset": "simlab.sequence.data",
    "Triplets": "simlab.sequence.data",
    "LabelledTexts": "simlab.sequence.data",
    "load_ucr": "simlab.sequence.data",
    "read_ts": "simlab.sequence.data",
    "read_ucr_tsv": "simlab.sequence.data",
    "read_sick": "simlab.sequence.data",
    "read_stsb": "simlab.sequence.data",
    "read_pairs": "simlab.sequence.data",
    "ucr_names": "simlab.sequence.data",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes("simlab.sequence", _LAZY)
