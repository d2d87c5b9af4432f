"""Corpus reading: formats, streaming, chunking, re-iterability and every bad-input path."""

from __future__ import annotations

import gzip
import json

import pytest

from simlab.errors import ConfigError, DataError
from simlab.text.corpus import MAX_DOC_TOKENS, TextCorpus, TokenCorpus, as_corpus, tokenize, write_line_corpus


def test_tokenizer_lowercases_and_strips_html_breaks():
    assert tokenize("Great MOVIE!<br /><br />Loved it.<BR>Don't miss") == [
        "great",
        "movie",
        "loved",
        "it",
        "don't",
        "miss",
    ]
    assert tokenize("Café naïve 東京 x_y") == ["café", "naïve", "東京", "x", "y"]


def test_formats(tmp_path):
    (tmp_path / "a.txt").write_text("One two<br />three\n\nfour\n")
    with gzip.open(tmp_path / "b.txt.gz", "wt") as f:
        f.write("gz line\n")
    (tmp_path / "c.jsonl").write_text(json.dumps({"text": "json doc", "id": 1}) + "\n\n")
    (tmp_path / "d.tsv").write_text("id\ttext\n1\ttsv doc\n")
    (tmp_path / "e.csv").write_text('id,body\n1,"csv, doc"\n')
    d = tmp_path / "dir"
    d.mkdir()
    (d / "x.txt").write_text("file one\nstill one")
    (d / "y.txt").write_text("file two")
    assert list(TextCorpus(tmp_path / "a.txt")) == [["one", "two", "three"], ["four"]]
    assert list(TextCorpus(tmp_path / "b.txt.gz")) == [["gz", "line"]]
    assert list(TextCorpus(tmp_path / "c.jsonl")) == [["json", "doc"]]
    assert list(TextCorpus(tmp_path / "d.tsv")) == [["tsv", "doc"]]
    assert list(TextCorpus(tmp_path / "e.csv", column="body")) == [["csv", "doc"]]
    assert list(TextCorpus(d)) == [["file", "one", "still", "one"], ["file", "two"]]
    ids = [i for i, _ in TextCorpus([tmp_path / "a.txt", d]).documents()]
    assert ids == ["a.txt:1", "a.txt:3", "x.txt", "y.txt"]


def test_corpus_is_restartable_and_custom_tokenizer(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("A B\nC\n")
    c = TextCorpus(p, tokenizer=str.split)
    assert list(c) == list(c) == [["A", "B"], ["C"]]


def test_long_documents_are_split_not_cut(tmp_path):
    p = tmp_path / "long.txt"
    p.write_text(" ".join(f"w{i}" for i in range(MAX_DOC_TOKENS * 2 + 5)) + "\n")
    parts = list(TextCorpus(p))
    assert [len(x) for x in parts] == [MAX_DOC_TOKENS, MAX_DOC_TOKENS, 5]
    assert parts[2][-1] == f"w{MAX_DOC_TOKENS * 2 + 4}"
    assert [len(x) for x in TokenCorpus([["a"] * 25], max_tokens=10)] == [10, 10, 5]


def test_generator_is_rejected():
    gen = (d for d in [["a", "b"]])
    with pytest.raises(DataError, match="one-shot iterator"):
        as_corpus(gen)
    with pytest.raises(DataError, match="one-shot iterator"):
        as_corpus(iter([["a"]]))
    assert list(as_corpus([["a", "b"], "C d"])) == [["a", "b"], ["c", "d"]]


def test_bad_document_type_names_position():
    with pytest.raises(DataError, match="document 1 is a int"):
        list(TokenCorpus([["a"], 5]))


def test_missing_file():
    with pytest.raises(DataError, match=r"nope.txt: file not found"):
        TextCorpus("nope.txt")


def test_binary_and_non_utf8_files(tmp_path):
    b = tmp_path / "bin.txt"
    b.write_bytes(b"fine line\n\x00\x01\x02binary\n")
    with pytest.raises(DataError, match=r"bin.txt:2: contains NUL bytes"):
        list(TextCorpus(b))
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"ok\ncaf\xe9\n")
    with pytest.raises(DataError, match=r"latin.txt:2: not UTF-8"):
        list(TextCorpus(latin))
    fake_gz = tmp_path / "x.txt.gz"
    fake_gz.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"x.txt.gz"):
        list(TextCorpus(fake_gz))


def test_malformed_jsonl_and_missing_columns(tmp_path):
    j = tmp_path / "a.jsonl"
    j.write_text('{"text": "ok"}\n{"text": broken}\n')
    with pytest.raises(DataError, match=r"a.jsonl:2: invalid JSON"):
        list(TextCorpus(j))
    j.write_text('{"body": "x"}\n')
    with pytest.raises(DataError, match=r"a.jsonl:1: no field 'text'"):
        list(TextCorpus(j))
    t = tmp_path / "a.tsv"
    t.write_text("id\tbody\n1\tx\n")
    with pytest.raises(DataError, match=r"a.tsv:1: no column 'text'"):
        list(TextCorpus(t))
    with pytest.raises(DataError, match=r"a.tsv:2: row has 2 columns"):
        list(TextCorpus(t, column=5, header=True))
    with pytest.raises(ConfigError, match="unknown corpus format"):
        TextCorpus(t, format="xml")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(DataError, match=r"no .txt files"):
        list(TextCorpus(tmp_path / "empty_dir"))


def test_write_line_corpus(tmp_path):
    n = write_line_corpus([["a", "b"], [], ["c"]], tmp_path / "out.txt")
    assert n == (2, 3)
    assert (tmp_path / "out.txt").read_text() == "a b\nc\n"
