"""Words and documents: Word2Vec, FastText, Doc2Vec and SIF on gensim, corpora, word/document evaluation.

This module only registers components by ``"module:attr"`` strings (importing it never imports gensim).
Use ``from simlab.text import Word2Vec`` (resolved lazily) or ``simlab.load(path)``.
"""

from __future__ import annotations

from simlab._deps import lazy_attributes
from simlab.registry import EVALUATORS, KINDS, MODELS

_LAZY = {
    "Word2Vec": "simlab.text.word2vec:Word2Vec",
    "Word2VecConfig": "simlab.text.word2vec:Word2VecConfig",
    "FastText": "simlab.text.fasttext:FastText",
    "FastTextConfig": "simlab.text.fasttext:FastTextConfig",
    "Doc2Vec": "simlab.text.doc2vec:Doc2Vec",
    "Doc2VecConfig": "simlab.text.doc2vec:Doc2VecConfig",
    "SIF": "simlab.text.sif:SIF",
    "Tfidf": "simlab.text.sparse:Tfidf",
    "TfidfConfig": "simlab.text.sparse:TfidfConfig",
    "BM25": "simlab.text.sparse:BM25",
    "BM25Config": "simlab.text.sparse:BM25Config",
    "SparseVectors": "simlab.text.sparse:SparseVectors",
    "LSI": "simlab.text.lsi:LSI",
    "LsiConfig": "simlab.text.lsi:LsiConfig",
    "Hybrid": "simlab.text.hybrid:Hybrid",
    "HybridConfig": "simlab.text.hybrid:HybridConfig",
    "DocumentModel": "simlab.text.hybrid:DocumentModel",
    "Tokenizer": "simlab.text.tokenizers:Tokenizer",
    "make_tokenizer": "simlab.text.tokenizers:make_tokenizer",
    "TextCorpus": "simlab.text.corpus:TextCorpus",
    "tokenize": "simlab.text.corpus:tokenize",
    "load_vectors": "simlab.text.io:load_vectors",
    "evaluate_word_pairs": "simlab.text.evaluation:evaluate_word_pairs",
    "evaluate_analogies": "simlab.text.evaluation:evaluate_analogies",
}

KINDS.register("word2vec", "simlab.text.word2vec:Word2Vec", help="Word2Vec word vectors (gensim, resumable)")
KINDS.register("fasttext", "simlab.text.fasttext:FastText", help="FastText word vectors with char n-grams")
KINDS.register("doc2vec", "simlab.text.doc2vec:Doc2Vec", help="Doc2Vec paragraph vectors (PV-DM / PV-DBOW)")
KINDS.register("sif", "simlab.text.sif:SIF", help="SIF sentence vectors over word vectors")
KINDS.register("tfidf", "simlab.text.sparse:Tfidf", help="TF-IDF sparse document vectors (cosine)")
KINDS.register("bm25", "simlab.text.sparse:BM25", help="BM25 / BM25+ search over documents")
KINDS.register("lsi", "simlab.text.lsi:LSI", help="LSI / LSA: truncated SVD of TF-IDF")
KINDS.register("hybrid", "simlab.text.hybrid:Hybrid", help="sparse + dense document similarity, fused")
KINDS.register("docs", "simlab.text.hybrid:DocumentModel", help="document model chosen by pseudo-pairs")
KINDS.register(
    "sparse-vectors",
    "simlab.text.sparse:SparseVectors",
    aliases=("sparse_vectors",),
    help="sparse rows (CSR) with keys",
)

MODELS.register("word2vec", "simlab.text.word2vec:Word2Vec", help="Word2Vec (CBOW / skip-gram), Mikolov 2013")
MODELS.register("fasttext", "simlab.text.fasttext:FastText", help="FastText char n-gram word vectors, 2017")
MODELS.register("doc2vec", "simlab.text.doc2vec:Doc2Vec", help="Doc2Vec PV-DM / PV-DBOW, Le & Mikolov 2014")
MODELS.register("sif", "simlab.text.sif:SIF", help="SIF weighted-average sentence vectors, Arora 2017")
MODELS.register("tfidf", "simlab.text.sparse:Tfidf", help="TF-IDF document vectors, sublinear tf, cosine")
MODELS.register("bm25", "simlab.text.sparse:BM25", help="BM25 / BM25+ ranking, Robertson & Zaragoza 2009")
MODELS.register(
    "hybrid", "simlab.text.hybrid:Hybrid", help="sparse + dense views, fusion weight on validation"
)
MODELS.register(
    "docs", "simlab.text.hybrid:DocumentModel", help="TF-IDF / LSI / Doc2Vec / hybrid by pseudo-pairs"
)
MODELS.register("lsi", "simlab.text.lsi:LSI", aliases=("lsa",), help="LSI / LSA on TF-IDF, Deerwester 1990")

EVALUATORS.register(
    "wordsim353",
    "simlab.text.evaluation:wordsim353",
    help="WordSim-353 word similarity (Spearman), gensim test data",
)
EVALUATORS.register(
    "simlex999",
    "simlab.text.evaluation:simlex999",
    help="SimLex-999 word similarity (Spearman), gensim test data",
)
EVALUATORS.register(
    "analogies",
    "simlab.text.evaluation:analogies",
    aliases=("google-analogies",),
    help="Google analogies (questions-words.txt), accuracy per section",
)
EVALUATORS.register(
    "word-pairs",
    "simlab.text.evaluation:word_pairs",
    help="word-pairs:FILE, a 'word1 word2 score' TSV (Spearman, Pearson)",
)
EVALUATORS.register(
    "pairs-file",
    "simlab.text.evaluation:pairs_file",
    help="an 'a<TAB>b<TAB>score' file path, any model with similarity(a, b) (Spearman, Pearson)",
)
EVALUATORS.register(
    "doc-pairs",
    "simlab.text.evaluation:doc_pairs",
    help="doc-pairs:FILE, a 'doc_a<TAB>doc_b<TAB>score' file (Pearson, Spearman)",
)
EVALUATORS.register(
    "imdb",
    "simlab.text.evaluation:imdb",
    help="IMDB sentiment error rate of document vectors (Le & Mikolov 2014 protocol)",
)


__getattr__ = lazy_attributes("simlab.text", _LAZY)


__all__ = sorted(_LAZY)
