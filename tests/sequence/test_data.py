from __future__ import annotations

import numpy as np
import pytest

from simlab.errors import DataError, DimensionError, UnknownNameError
from simlab.sequence import data as D


def test_load_ucr_bundled():
    tr = D.load_ucr("GunPoint", "train")
    te = D.load_ucr("gunpoint", "test")
    assert len(tr) == 50 and len(te) == 150 and tr.channels == 1 and set(tr.classes) == {"1", "2"}
    jv = D.load_ucr("JapaneseVowels")
    assert jv.channels == 12 and jv.lengths.min() < jv.lengths.max()  # unequal length, multivariate
    bm = D.load_ucr("BasicMotions")
    assert bm.channels == 6 and len(bm.classes) == 4


def test_unknown_ucr_lists_available():
    with pytest.raises(UnknownNameError) as e:
        D.load_ucr("NoSuchSet")
    assert "GunPoint" in str(e.value) and "ItalyPowerDemand" in str(e.value)


def test_read_ts_missing_and_errors(tmp_path):
    p = tmp_path / "x.ts"
    p.write_text(
        "@problemName x\n@univariate false\n@classLabel true a b\n@data\n1,2,?,4:5,6,7,8:a\n1,2:3,4:b\n",
        "utf-8",
    )
    ds = D.read_ts(p)
    assert ds.channels == 2 and ds.lengths.tolist() == [4, 2] and np.isnan(ds.series[0][2, 0])
    p.write_text("@classLabel true a b\n@data\n?,?,?:a\n1,2:b\n", "utf-8")
    with pytest.raises(DataError, match="only missing"):
        D.read_ts(p)
    p.write_text("@classLabel true a\n@data\n1,2,3:4,5:a\n", "utf-8")
    with pytest.raises(DataError, match="different lengths"):
        D.read_ts(p)


def test_read_ucr_tsv(tmp_path):
    p = tmp_path / "u.tsv"
    p.write_text("1\t0.1\t0.2\t0.3\n2\t0.5\t0.4\tNaN\n", "utf-8")
    ds = D.read_ucr_tsv(p)
    assert ds.labels.tolist() == ["1", "2"] and ds.lengths.tolist() == [3, 2]
    p.write_text("1\tx\t0.2\n", "utf-8")
    with pytest.raises(DataError, match=r"u\.tsv:1"):
        D.read_ucr_tsv(p)


def test_series_bad_input():
    with pytest.raises(DataError, match="empty"):
        D.SeriesDataset.from_arrays([np.zeros(0)], ["a"])
    with pytest.raises(DataError, match="only missing"):
        D.SeriesDataset.from_arrays([np.array([np.nan, np.nan]), np.ones(3)], ["a", "b"])
    with pytest.raises(DimensionError):
        D.SeriesDataset.from_arrays(np.ones((3, 4)), ["a", "b"])


def test_read_sick_and_stsb(sick_files, tmp_path):
    p = D.read_sick(sick_files / "SICK_train.txt")
    assert len(p) == 300 and p.score.min() >= 1 and p.label is not None and p.kind == "scored_pairs"
    assert D.read_any(sick_files / "SICK_train.txt").a == p.a
    s = tmp_path / "sts-test.csv"
    s.write_text(
        "main-captions\tMSRvid\t2012test\t0001\t5.000\tA man plays.\tA man is playing.\n"
        'main-news\theadlines\t2015\t0002\t1.2\tA "quoted" one.\tOther.\tsrc\textra\n',
        "utf-8",
    )
    st = D.read_stsb(s)
    assert st.score.tolist() == [5.0, pytest.approx(1.2)] and st.a[1] == 'A "quoted" one.'
    assert D.read_any(s).b == st.b
    s.write_text("a\tb\tc\n", "utf-8")
    with pytest.raises(DataError, match="at least 7"):
        D.read_stsb(s)


def test_read_pairs_columns(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text('a,b,label\n"x, y",z,1\nq,w,0\n', "utf-8")
    d = D.read_pairs(p)
    assert d.a == ["x, y", "q"] and d.label.tolist() == [1.0, 0.0] and d.kind == "binary_pairs"
    p.write_text("a,c,score\nx,y,1\n", "utf-8")
    with pytest.raises(DataError, match="needs columns 'a' and 'b'"):
        D.read_pairs(p)
    p.write_text("a,b,score\nx,y,1\nx\n", "utf-8")
    with pytest.raises(DataError, match=r"p\.csv:3"):
        D.read_pairs(p)
    with pytest.raises(DimensionError, match="column a"):
        D.PairDataset(["x", "y"], ["z"], np.ones(2))


def test_ts_header_without_class_label_value_is_one_line_error(tmp_path):
    """A bare ``@classLabel`` (found by the reader fuzz test) is a DataError naming the line, not a crash."""
    p = tmp_path / "bad.ts"
    p.write_text("@problemName x\n@classLabel\n@data\n1,2,3:1\n", "utf-8")
    with pytest.raises(DataError, match=r"bad.ts:2: @classLabel must be followed by true or false"):
        D.read_series(p)
