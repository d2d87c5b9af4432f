"""gensim training engine: thin subclasses that add an exact per-epoch loss and a tqdm progress bar.

Imports gensim at module level: only the model modules import this one.

Loss (Word2Vec, ``compute_loss=True``): gensim keeps one float32 ``running_training_loss`` on the model that
every worker thread reads at the start of a batch and overwrites at its end. It is cumulative over the whole
`train()` call, saturates in float32 on large corpora (increments of ~1 vanish next to ~1e8) and loses batches
when several workers overlap. We run each batch against a tiny per-batch proxy of the model whose own
``running_training_loss`` starts at 0, then add the batch's loss (a float32 sum over at most `batch_words`
words) to a float64 per-epoch total under a lock. The result is the exact sum over the epoch of the negative
log-likelihood terms gensim computes (negative sampling: ``-log σ(u_o·h) - Σ_neg log σ(-u_n·h)``; hierarchical
softmax: the sum of ``-log σ(±u·h)`` over the Huffman path). FastText and Doc2Vec: gensim computes no loss;
none is reported (``None``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gensim.models import Doc2Vec as _GDoc2Vec
from gensim.models import FastText as _GFastText
from gensim.models import Word2Vec as _GWord2Vec
from gensim.models.callbacks import CallbackAny2Vec
from gensim.models.word2vec_inner import train_batch_cbow, train_batch_sg

log = logging.getLogger(__name__)


class _LossProxy:
    """Stands in for the model inside one Cython batch call so that the loss counter is private to it."""

    __slots__ = ("_model", "running_training_loss", "wv")

    def __init__(self, model: Any) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "running_training_loss", 0.0)
        # the Cython loop reads model.wv for every token: a plain slot, not the __getattr__ fallback
        object.__setattr__(self, "wv", model.wv)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


class Progress:
    """tqdm bar over ``epochs x words`` with words/s, ETA and the last epoch's loss.

    The bar is advanced from gensim's periodic progress report (every `report_delay` s) and at each epoch end
    (a gensim callback); it is silent when stderr is not a terminal (``disable=None``) or when `show` is
    False.
    """

    def __init__(self, total_words: int, epochs: int, desc: str, show: bool | None = None) -> None:
        from tqdm.auto import tqdm

        self.total_words = max(1, int(total_words))
        self.epochs = epochs
        self.bar = tqdm(
            total=self.total_words * epochs,
            unit="w",
            unit_scale=True,
            desc=desc,
            disable=None if show is None else not show,
            smoothing=0.1,
            dynamic_ncols=True,
        )
        self.done_epochs = 0
        self.interrupted: str | None = None  # set by Ctrl-C / SIGTERM: training stops at the epoch's end
        self.in_epoch = 0
        self.losses: list[float | None] = []
        self.epoch_words: list[int] = []
        self.epoch_seconds: list[float] = []

    def update_epoch(self, raw_words: int) -> None:
        raw_words = min(int(raw_words), self.total_words)
        delta = raw_words - self.in_epoch
        if delta > 0:
            self.bar.update(delta)
            self.in_epoch = raw_words

    def end_epoch(self, raw_words: int, seconds: float, loss: float | None) -> None:
        self.update_epoch(self.total_words)  # an epoch may be shorter than counted (chunking/trimming)
        self.done_epochs += 1
        self.in_epoch = 0
        self.losses.append(loss)
        self.epoch_words.append(int(raw_words))
        self.epoch_seconds.append(seconds)
        post = {"epoch": f"{self.done_epochs}/{self.epochs}"}
        if loss is not None:
            post["loss"] = f"{loss:.4g}"
        self.bar.set_postfix(post, refresh=True)
        log.info(
            "epoch %d/%d: %d words in %.1fs%s",
            self.done_epochs,
            self.epochs,
            raw_words,
            seconds,
            "" if loss is None else f", loss {loss:.6g}",
        )

    def close(self) -> None:
        self.bar.close()


class _EpochCallback(CallbackAny2Vec):
    """gensim callback: resets the per-epoch loss at epoch start and records it at epoch end."""

    def __init__(self) -> None:
        self.t0 = 0.0

    def on_epoch_begin(self, model: Any) -> None:
        self.t0 = time.perf_counter()
        model._simlab_epoch_loss = 0.0
        model._simlab_epoch_raw = 0

    def on_epoch_end(self, model: Any) -> None:
        prog: Progress | None = getattr(model, "_simlab_progress", None)
        loss = model._simlab_epoch_loss if getattr(model, "_simlab_loss_on", False) else None
        if prog is not None:
            prog.end_epoch(model._simlab_epoch_raw, time.perf_counter() - self.t0, loss)
            if prog.interrupted:  # Ctrl-C / SIGTERM during this epoch: stop with the model as it is now
                raise _StopTraining


class _StopTraining(Exception):
    """Raised at an epoch end after an interrupt: every worker thread of the epoch has finished."""


@contextmanager
def _stop_at_epoch_end(prog: Progress) -> Iterator[None]:
    """While training, the first Ctrl-C / SIGTERM stops after the current epoch; a second one stops at
    once."""
    import signal

    def handler(signum: int, frame: Any) -> None:
        if prog.interrupted:
            raise KeyboardInterrupt
        prog.interrupted = "terminated" if signum == signal.SIGTERM else "interrupted"
        log.warning("%s: stopping after this epoch (again to abort)", prog.interrupted)

    saved = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


class _ProgressMixin:
    """Hooks gensim's per-epoch progress reports into :class:`Progress`."""

    _simlab_progress: Progress | None = None
    _simlab_epoch_loss = 0.0
    _simlab_epoch_raw = 0
    _simlab_loss_on = False

    def _log_progress(
        self,
        job_queue: Any,
        progress_queue: Any,
        cur_epoch: int,
        example_count: int,
        total_examples: Any,
        raw_word_count: int,
        total_words: Any,
        trained_word_count: int,
        elapsed: float,
    ) -> None:
        if self._simlab_progress is not None:
            self._simlab_progress.update_epoch(raw_word_count)

    def _log_epoch_end(
        self,
        cur_epoch: int,
        example_count: int,
        total_examples: Any,
        raw_word_count: int,
        total_words: Any,
        trained_word_count: int,
        elapsed: float,
        is_corpus_file_mode: Any,
    ) -> None:
        self._simlab_epoch_raw = raw_word_count
        log.debug(
            "epoch %d: %d raw words, %d effective, %.1fs",
            cur_epoch,
            raw_word_count,
            trained_word_count,
            elapsed,
        )

    def _log_train_end(
        self, raw_word_count: int, trained_word_count: int, total_elapsed: float, job_tally: int
    ) -> None:
        log.debug(
            "training: %d raw words, %d effective, %.1fs", raw_word_count, trained_word_count, total_elapsed
        )


class GWord2Vec(_ProgressMixin, _GWord2Vec):
    """gensim Word2Vec with an exact per-epoch loss (see the module docstring)."""

    _loss_lock = threading.Lock()

    def _do_train_job(self, sentences: Any, alpha: float, inits: Any) -> tuple[int, int]:
        if not self.compute_loss:
            return super()._do_train_job(sentences, alpha, inits)
        work, neu1 = inits
        proxy = _LossProxy(self)
        if self.sg:
            tally = train_batch_sg(proxy, sentences, alpha, work, True)
        else:
            tally = train_batch_cbow(proxy, sentences, alpha, work, neu1, True)
        with self._loss_lock:
            self._simlab_epoch_loss += float(proxy.running_training_loss)
        return tally, self._raw_word_count(sentences)


class GFastText(_ProgressMixin, _GFastText):
    """gensim FastText with the progress hooks (gensim computes no FastText loss)."""


class GDoc2Vec(_ProgressMixin, _GDoc2Vec):
    """gensim Doc2Vec with the progress hooks (gensim computes no Doc2Vec loss)."""


def run_training(
    model: Any,
    *,
    corpus: Any = None,
    corpus_file: str | None = None,
    total_words: int,
    total_examples: int,
    epochs: int,
    desc: str,
    progress: bool | None = None,
    start_alpha: float | None = None,
    end_alpha: float | None = None,
) -> Progress:
    """Run ``model.train`` with the progress bar and the epoch callback; returns the filled
    :class:`Progress`."""
    prog = Progress(total_words, epochs, desc, show=progress)
    model._simlab_progress = prog
    model._simlab_loss_on = (
        bool(getattr(model, "compute_loss", False)) and corpus_file is None and isinstance(model, GWord2Vec)
    )
    kw: dict[str, Any] = {}
    if isinstance(model, GWord2Vec):  # train() overwrites model.compute_loss with its own argument
        kw["compute_loss"] = bool(getattr(model, "compute_loss", False))
    if start_alpha is not None:
        kw["start_alpha"] = start_alpha
    if end_alpha is not None:
        kw["end_alpha"] = end_alpha
    try:
        with _stop_at_epoch_end(prog):
            if corpus_file is not None:
                model.train(
                    corpus_file=corpus_file,
                    total_words=total_words,
                    total_examples=total_examples,
                    epochs=epochs,
                    callbacks=[_EpochCallback()],
                    report_delay=0.5,
                    **kw,
                )
            else:
                model.train(
                    corpus,
                    total_examples=total_examples,
                    total_words=total_words,
                    epochs=epochs,
                    callbacks=[_EpochCallback()],
                    report_delay=0.5,
                    **kw,
                )
    except _StopTraining:
        pass
    finally:
        prog.close()
        model._simlab_progress = None
    return prog
