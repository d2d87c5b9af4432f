"""Saving and loading a :class:`~simlab.sequence.model.SiameseModel` as an artifact directory.

Layout (the same since the first release, so every saved model still loads): ``model.safetensors`` (weights),
``state.json`` (the featurizer's state, score range, history, fallback selection, collection labels),
``vocab.json`` (text models), the collection as Vectors (``collection_*``), and ``raw_collection.safetensors``
(the collection's series, when a classical similarity searches them). The config is in the manifest; a flat
config of older versions (``epochs``, ``lr``... beside the model's keys) is routed into ``train`` on load.
Never pickled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ArtifactError, ConfigError
from simlab.sequence import data as D
from simlab.sequence.featurizers import featurizer_for
from simlab.vectors import Vectors


def write(model: Any, writer: ArtifactWriter) -> None:
    """Write a fitted model's files into an open artifact."""
    state = {
        **model.featurizer.to_dict(),
        "score_range": model.score_range,
        "history": model.history,
        "collection_labels": model.collection_labels,
        "selection": None if model.selection is None else model.selection.to_dict(),
    }
    if model.raw_collection is not None:
        padded, lengths = D.SeriesDataset(model.raw_collection).to_padded()
        arrays = {"series": padded.astype(np.float32), "lengths": lengths.astype(np.int64)}
        writer.save_arrays("raw_collection.safetensors", arrays)
    writer.save_arrays("model.safetensors", model.net.state_dict())
    writer.save_json("state.json", state)
    if model.vocab is not None:
        writer.save_json("vocab.json", model.vocab)
    if model.collection is not None:
        model.collection.to_artifact(writer, prefix="collection_")
    writer.metrics = manifest_metrics(model.history, model.selection)


def read(cls: type, art: Artifact) -> Any:
    """Rebuild a model of class `cls` from a verified artifact (weights on the CPU; the caller moves them)."""
    try:
        m = cls(art.config)
    except ConfigError as exc:
        raise ArtifactError(f"{art.path}: bad config ({exc})") from None
    st = art.json("state.json")
    vocab = art.json("vocab.json") if "vocab.json" in art.files else None
    try:
        m.featurizer = featurizer_for(st["modality"]).from_dict(st, m.config, vocab)
    except (KeyError, ArtifactError) as exc:
        raise ArtifactError(f"{art.path}: bad state.json ({exc})") from None
    m.net = m.new_net(m.featurizer.frontend(m.config))
    load_weights(m.net, art)
    m.score_range = tuple(st["score_range"]) if st.get("score_range") else None
    m.history = st.get("history") or {}
    if "collection_vectors.safetensors" in art.files:
        m.collection = Vectors.from_artifact(art, prefix="collection_")
        m.collection_labels = st.get("collection_labels")
    if st.get("selection"):
        from simlab.sequence.fallback import Selection

        m.selection = Selection.from_dict(st["selection"])
    if "raw_collection.safetensors" in art.files:
        raw = art.arrays("raw_collection.safetensors")
        m.raw_collection = [np.array(x[:n]) for x, n in zip(raw["series"], raw["lengths"], strict=True)]
    return m


def load_weights(net: Any, art: Artifact) -> None:
    """Load ``model.safetensors`` into `net` (strict) and put it in eval mode."""
    import torch

    arrays = art.arrays("model.safetensors")
    try:
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ArtifactError(f"{art.path}: weights do not fit the config ({first})") from None
    net.eval()


def manifest_metrics(history: dict[str, Any], selection: Any) -> dict[str, Any]:
    """The manifest's metrics: best dev score and epoch; the fallback's choice and validation accuracies."""
    out = {k: history.get(k) for k in ("best_dev", "best_epoch") if k in history}
    if selection is not None:
        out["similarity"] = selection.name
        out["validation"] = selection.protocol
        out["validation_accuracy"] = {
            k: v for k, v in selection.validation.items() if not k.startswith("blend_")
        }
    return out
