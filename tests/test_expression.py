"""The condition language (eventlab.studies): vectorised evaluation against row-by-row loops of the
same definitions on random frames, each vocabulary word against an independent pandas
computation, the refusals (injection, denial of service, bad names, lags and windows) and the seed
question's mask on the shipped ^GSPC."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eventlab.config import CONFIG
from eventlab.data.snapshot import read_series
from eventlab.studies.expression import (
    MAX_TEXT_LENGTH,
    Condition,
    ConditionError,
    parse_condition,
)
from eventlab.studies.nodes import Scope
from eventlab.studies.vocabulary import MAX_WINDOW, WORDS
from eventlab.study.events import event_array
from tests.expression_twin import Twin

KEYS = ("A", "B", "VIX")
NAN = float("nan")

# ---------------------------------------------------------------- random frames

_price = st.one_of(
    st.floats(1.0, 100.0, allow_nan=False),
    st.sampled_from([10.0, 20.0]),  # ties: equal closes end streaks, == and != hold
    st.just(NAN),
)


@st.composite
def ohlcv(draw, n_min: int = 1, n_max: int = 45, start: str = "2020-01-01") -> pd.DataFrame:
    """An OHLCV frame on business days, with NaNs and ties (no OHLC consistency needed: the
    language must define every value, consistent or not)."""
    n = draw(st.integers(n_min, n_max))
    cols = {
        c: draw(st.lists(_price, min_size=n, max_size=n)) for c in ("open", "high", "low", "close")
    }
    cols["volume"] = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    index = pd.bdate_range(start, periods=n)
    return pd.DataFrame(cols, index=index)


@st.composite
def frames_abv(draw) -> dict[str, pd.DataFrame]:
    """Study series A, and B and VIX on dates that overlap A's only partly."""
    a = draw(ohlcv())
    b = draw(ohlcv(start=draw(st.sampled_from(["2019-12-20", "2020-01-01", "2020-01-15"]))))
    keep = draw(st.lists(st.booleans(), min_size=len(b), max_size=len(b)))
    b = b[np.array(keep, dtype=bool)]  # gaps in B's calendar: missing on some of A's dates
    vix = draw(ohlcv(start="2020-01-06"))
    return {"A": a, "B": b, "VIX": vix}


# ---------------------------------------------------------------- random conditions

_k = st.integers(1, 6).map(str)
_leaf_words = st.one_of(
    st.sampled_from(
        [
            "close",
            "open",
            "high",
            "low",
            "volume",
            "gap",
            "range",
            "down_streak",
            "up_streak",
            "vix",
        ]
    ),
    st.builds(lambda f, k: f"{f}[-{k}]", st.sampled_from(["close", "open", "gap"]), _k),
    st.builds(
        lambda w, k: f"{w}({k})",
        st.sampled_from(
            [
                "ret",
                "change",
                "sma",
                "ema",
                "highest",
                "lowest",
                "dist_sma",
                "dist_ema",
                "rsi",
                "rvol",
            ]
        ),
        _k,
    ),
    st.builds(lambda w, k: f"B.{w}({k})", st.sampled_from(["ret", "sma", "rsi", "highest"]), _k),
    st.sampled_from(["B.close", "B.gap", "B.close[-1]", "B.down_streak"]),
    st.sampled_from(["0", "1", "2%", "-1%", "50", "0.5", "10"]),
)


def _numbers(inner):
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from("+-*/"), inner),
        st.builds(lambda a: f"-{a}", inner),
        st.builds(lambda a: f"abs({a})", inner),
        st.builds(
            lambda w, a, k: f"{w}({a}, {k})",
            st.sampled_from(["sma", "ema", "highest", "lowest"]),
            inner,
            _k,
        ),
        st.builds(lambda a, k: f"({a})[-{k}]", inner, _k),
        # An expression evaluated on B's own sessions (its bare fields are B's), then aligned.
        st.builds(
            lambda w, a, k: f"B.{w}({a}, {k})", st.sampled_from(["sma", "highest"]), inner, _k
        ),
    )


_number_expr = st.recursive(_leaf_words, _numbers, max_leaves=4)
_comparison = st.builds(
    lambda a, op, b: f"{a} {op} {b}",
    _number_expr,
    st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    _number_expr,
)


def _conditions(inner):
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(["and", "or"]), inner),
        st.builds(lambda a: f"not ({a})", inner),
        st.builds(lambda a, k: f"first_in({a}, {k})", inner, _k),
        st.builds(lambda a, k: f"({a})[-{k}]", inner, _k),
        st.builds(
            lambda w, a, b: f"{w}({a}, {b})",
            st.sampled_from(["cross_above", "cross_below"]),
            _number_expr,
            _number_expr,
        ),
    )


_condition_text = st.recursive(_comparison, _conditions, max_leaves=4)


def _twin_values(cond: Condition, frames: dict[str, pd.DataFrame]) -> tuple[list, int]:
    """The twin's three-valued result (True/False/None per row) and its count of near ties."""
    twin = Twin(frames)
    return twin.eval(cond.tree, cond.series), twin.near_ties


def _three_valued(cond: Condition, frames: dict[str, pd.DataFrame]) -> list:
    """The vectorised tree's 1.0/0.0/NaN as True/False/None."""
    values = cond.tree.evaluate(Scope(frames, cond.series))
    return [None if np.isnan(v) else bool(v) for v in values]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(frames=frames_abv(), text=_condition_text)
def test_random_conditions_match_row_by_row_loops(frames, text):
    """Any condition the strategy writes evaluates, on random frames with NaNs, ties and
    partly-overlapping calendars, exactly as the row-by-row loops of the same definitions."""
    cond = parse_condition(text, series="A", known_series=KEYS)
    got = cond.evaluate(frames)
    expected, near_ties = _twin_values(cond, frames)
    assume(near_ties == 0)  # rounding-level ties may go either way in either implementation
    assert got.dtype == bool and got.index.equals(frames["A"].index)
    assert got.tolist() == [v is True for v in expected], text
    # Unknown is kept apart from false all the way up (it matters under `not` and `or`).
    assert _three_valued(cond, frames) == expected, text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=frames_abv(), text=_condition_text, data=st.data())
def test_no_condition_reads_the_future(frames, text, data):
    """A condition's value on a day does not change when later sessions are cut off."""
    cond = parse_condition(text, series="A", known_series=KEYS)
    cut = frames["A"].index[data.draw(st.integers(0, len(frames["A"]) - 1))]
    short = {k: f[f.index <= cut] for k, f in frames.items()}
    assert cond.evaluate(short).tolist() == cond.evaluate(frames)[:cut].tolist()


# ---------------------------------------------------------------- the sentences of the issue


def _loop(frames, fn) -> list[bool]:
    """fn(t, rows) over every row of A, rows mapping a series to its row dicts by date."""
    a = frames["A"]
    by_date = {
        k: {d: r for d, r in zip(f.index, f.to_dict("records"), strict=True)}
        for k, f in frames.items()
    }
    dates = list(a.index)
    out = []
    for t in range(len(dates)):
        try:
            out.append(bool(fn(t, dates, by_date)))
        except (KeyError, IndexError, ZeroDivisionError, TypeError):
            out.append(False)  # an input missing: the sentence cannot be said to hold
    return out


def _v(x: float) -> float:
    if x != x:  # NaN: the row is missing
        raise TypeError("missing")
    return x


def _row(by_date, key, d):
    return by_date[key][d]


def _prev_dates(frame: pd.DataFrame, d, n: int) -> list:
    """The n sessions of `frame` before date d (its own calendar), oldest first."""
    i = frame.index.get_loc(d)
    if i - n < 0:
        raise IndexError
    return list(frame.index[i - n : i])


def _gap_up_red(t, dates, r):
    if t == 0:
        raise IndexError
    today, prev = r["A"][dates[t]], r["A"][dates[t - 1]]
    return _v(today["open"]) / _v(prev["close"]) - 1 > 0.01 and _v(today["close"]) < _v(
        prev["close"]
    )


def _vix_jump(frames):
    vix = frames["VIX"]

    def fn(t, dates, r):
        d = dates[t]
        (p,) = _prev_dates(vix, d, 1)
        return _v(r["VIX"][d]["close"]) / _v(r["VIX"][p]["close"]) - 1 > 0.20

    return fn


def _three_down_into_low(t, dates, r):
    closes = [_v(r["A"][dates[t - k]]["close"]) for k in range(0, 50)] if t >= 49 else None
    if closes is None or t < 3:
        raise IndexError
    c = [_v(r["A"][dates[t - k]]["close"]) for k in range(4)]
    return c[0] < c[1] < c[2] < c[3] and c[0] <= min(closes)


def _gap_down_green(t, dates, r):
    if t == 0:
        raise IndexError
    today, prev = r["A"][dates[t]], r["A"][dates[t - 1]]
    return _v(today["open"]) / _v(prev["close"]) - 1 < -0.01 and _v(today["close"]) > _v(
        today["open"]
    )


def _first_below_sma(n: int, m: int):
    seen: dict[int, bool] = {}  # below() per row, computed once (the loop asks m times)

    def below(t, dates, r):
        if t not in seen:
            if t < n - 1:
                raise IndexError
            closes = [_v(r["A"][dates[t - k]]["close"]) for k in range(n)]
            seen[t] = closes[0] < sum(closes) / n
        return seen[t]

    def fn(t, dates, r):
        if not below(t, dates, r):
            return False
        if t - m < 0:
            raise IndexError
        return not any(below(t - k, dates, r) for k in range(1, m + 1))

    return fn


def _divergence(frames, n: int, first: str = "A"):
    def ret(key, d):
        (p, *_) = _prev_dates(frames[key], d, n)
        return _v(frames[key].loc[d, "close"]) / _v(frames[key].loc[p, "close"]) - 1

    def fn(t, dates, r):
        return ret(first, dates[t]) > 0 and ret("B", dates[t]) < 0

    return fn


def _new_high(t, dates, r):
    if t < 50:
        raise IndexError
    before = [_v(r["A"][dates[t - k]]["close"]) for k in range(1, 51)]
    return _v(r["A"][dates[t]]["close"]) > max(before)


SENTENCES = [
    ("gap > 1% and close < close[-1]", lambda f: _gap_up_red),
    ("VIX.ret(1) > 20%", _vix_jump),
    ("down_streak >= 3 and close <= lowest(50)", lambda f: _three_down_into_low),
    ("gap < -1% and close > open", lambda f: _gap_down_green),
    ("first_in(close < sma(5), 7)", lambda f: _first_below_sma(5, 7)),
    ("A.ret(5) > 0 and B.ret(5) < 0", lambda f: _divergence(f, 5)),
    ("close > highest(50)[-1]", lambda f: _new_high),
]


@pytest.mark.parametrize(("text", "loop"), SENTENCES, ids=[s for s, _ in SENTENCES])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=frames_abv())
def test_sentences_mean_what_they_say(text, loop, frames):
    """Each example of the issue equals a hand-written loop of the sentence it encodes."""
    got = parse_condition(text, series="A", known_series=KEYS).evaluate(frames)
    assert got.tolist() == _loop(frames, loop(frames))


def test_sentences_on_shipped_series_match_loops():
    """The issue's sentences with their real windows, on the shipped series since 2015, equal
    their loops (and hold at least once, so the comparison is not vacuous)."""
    shipped = {k: read_series(k) for k in ("GSPC", "VIX", "NDX", "RUT")}
    frames = {
        "A": shipped["GSPC"]["2015":],
        "B": shipped["RUT"],
        "VIX": shipped["VIX"],
        "NDX": shipped["NDX"],
    }
    cases = [
        ("first_in(close < sma(200), 126)", _first_below_sma(200, 126)),
        ("NDX.ret(5) > 0 and B.ret(5) < 0", _divergence(frames, 5, first="NDX")),
        ("VIX.ret(1) > 20%", _vix_jump(frames)),
    ]
    for text, fn in cases:
        got = parse_condition(text, series="A", known_series=tuple(frames)).evaluate(frames)
        assert got.tolist() == _loop(frames, fn), text
        assert got.any(), text


def test_seed_condition_equals_the_study_event_mask_on_gspc():
    """`gap > 1% and close < close[-1]` on the shipped ^GSPC is event_array's mask with every day
    in sample (the study's own detection, before its genuine-open filter)."""
    px = read_series("GSPC")
    o, c = px["open"].to_numpy(float), px["close"].to_numpy(float)
    expected = event_array(o, c, np.ones(len(px), bool), 0.01, "prior_close")
    cond = parse_condition(
        "gap > 1% and close < close[-1]", series="GSPC", known_series=CONFIG.daily_keys
    )
    got = cond.evaluate({"GSPC": px})
    assert got.index.equals(px.index)
    assert np.array_equal(got.to_numpy(), expected)
    assert expected.any()  # not vacuous: the seed question has events on ^GSPC
    assert cond.uses_open and cond.series_used == {"GSPC"} and cond.lookback == 1


# ---------------------------------------------------------------- each word vs pandas


def _series(values, name="x") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2020-01-01", periods=len(values)), name=name)


@st.composite
def price_frame(draw) -> pd.DataFrame:
    """A gap-free frame of positive prices (rolling/ewm need no NaN policy to agree)."""
    n = draw(st.integers(2, 80))
    close = (
        np.cumprod(1 + np.array(draw(st.lists(st.floats(-0.05, 0.05), min_size=n, max_size=n))))
        * 100
    )
    other = np.array(draw(st.lists(st.floats(0.97, 1.03), min_size=n, max_size=n)))
    return pd.DataFrame(
        {
            "open": close * other,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 1.0,
        },
        index=pd.bdate_range("2020-01-01", periods=n),
    )


def _word_values(text: str, frame: pd.DataFrame) -> np.ndarray:
    """A numeric word's values: the left side of the condition `text == text`, evaluated."""
    cond = parse_condition(f"{text} == {text}", series="A", known_series=("A",))
    return cond.tree.children()[0].evaluate(Scope({"A": frame}, "A"))


def _pandas_rsi(close: pd.Series, n: int) -> pd.Series:
    """RSI with pandas' Wilder smoothing seeded at the first change (converges to Wilder's)."""
    d = close.diff()
    g = d.clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    loss = (-d).clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    return 100 - 100 / (1 + g / loss)


PANDAS_TWINS = {
    "ret(n)": lambda px, n: px["close"].pct_change(n, fill_method=None),
    "change(n)": lambda px, n: px["close"].diff(n),
    "sma(n)": lambda px, n: px["close"].rolling(n).mean(),
    "sma(open, n)": lambda px, n: px["open"].rolling(n).mean(),
    "ema(n)": lambda px, n: (
        px["close"].ewm(span=n, adjust=False).mean().where(np.arange(len(px)) >= n - 1)
    ),
    "highest(n)": lambda px, n: px["close"].rolling(n).max(),
    "lowest(high, n)": lambda px, n: px["high"].rolling(n).min(),
    "dist_sma(n)": lambda px, n: px["close"] / px["close"].rolling(n).mean() - 1,
    "dist_ema(n)": lambda px, n: (
        px["close"] / px["close"].ewm(span=n, adjust=False).mean() - 1
    ).where(np.arange(len(px)) >= n - 1),
    "rvol(n)": lambda px, n: np.log(px["close"]).diff().rolling(n).std() * np.sqrt(252),
    "gap": lambda px, n: px["open"] / px["close"].shift() - 1,
    "range": lambda px, n: px["high"] / px["low"] - 1,
    "close[-n]": lambda px, n: px["close"].shift(n),
    "abs(gap)": lambda px, n: (px["open"] / px["close"].shift() - 1).abs(),
}


@pytest.mark.parametrize("usage", list(PANDAS_TWINS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(px=price_frame(), n=st.integers(1, 30))
def test_words_match_pandas(usage, px, n):
    """Each numeric word equals an independent pandas computation (rolling, ewm, shift)."""
    assume(not (usage == "rvol(n)" and n < 2))  # a sample std needs two returns
    got = _word_values(usage.replace("n)", f"{n})").replace("[-n]", f"[-{n}]"), px)
    expected = PANDAS_TWINS[usage](px, n).to_numpy(float)
    # atol: rolling variances of near-constant windows cancel to ~1e-11 in either computation
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_rsi_converges_to_pandas_wilder_and_is_bounded():
    """RSI(14) on the shipped ^GSPC: within [0, 100], and after a year equal to pandas' Wilder
    smoothing (alpha 1/n) whatever the seed."""
    px = read_series("GSPC")[-3000:]
    got = _word_values("rsi(14)", px)
    ref = _pandas_rsi(px["close"], 14).to_numpy()
    assert np.all(np.isnan(got[:14])) and not np.isnan(got[14:]).any()
    assert np.nanmin(got) >= 0 and np.nanmax(got) <= 100
    np.testing.assert_allclose(got[300:], ref[300:], rtol=1e-8)


@settings(max_examples=60, deadline=None)
@given(closes=st.lists(st.sampled_from([1.0, 2.0, 3.0, NAN]), min_size=1, max_size=40))
def test_streaks_match_pandas_groupby(closes):
    """down_streak/up_streak equal pandas' run-length count (groupby over the run breaks)."""
    px = pd.DataFrame(
        {c: closes for c in ("open", "high", "low", "close")},
        index=pd.bdate_range("2020-01-01", periods=len(closes)),
    )
    px["volume"] = 0.0
    for word, sign in (("down_streak", -1), ("up_streak", 1)):
        c = px["close"]
        known = c.notna() & c.shift().notna()
        moved = (np.sign(c.diff()) == sign) & known
        runs = (~moved).cumsum()
        expected = moved.astype(int).groupby(runs).cumsum().astype(float).where(known)
        np.testing.assert_array_equal(_word_values(word, px), expected.to_numpy())


@settings(max_examples=60, deadline=None)
@given(
    held=st.lists(st.sampled_from([0.0, 1.0, NAN]), min_size=1, max_size=40), m=st.integers(1, 8)
)
def test_first_in_matches_pandas_rolling(held, m):
    """first_in(cond, m) on a 0/1/unknown condition equals a pandas rolling max of the past m."""
    px = pd.DataFrame(
        {"close": held, "open": 0.5, "high": 0.0, "low": 0.0, "volume": 0.0},
        index=pd.bdate_range("2020-01-01", periods=len(held)),
    )
    cond = parse_condition(f"first_in(close > open, {m})", series="A", known_series=("A",))
    got = cond.evaluate({"A": px}).to_numpy()
    c = pd.Series(held)
    prior = c.shift()
    any_before = prior.rolling(m, min_periods=m).max()  # NaN if any of the m is unknown
    expected = (c == 1) & (any_before == 0)
    np.testing.assert_array_equal(got, expected.to_numpy())


def test_cross_above_matches_shifted_pandas():
    """cross_above(close, sma(50)) on the shipped ^GSPC equals the shift-based pandas definition."""
    px = read_series("GSPC")
    c, s = px["close"], px["close"].rolling(50).mean()
    expected = (c > s) & (c.shift() <= s.shift())
    got = parse_condition(
        "cross_above(close, sma(50))", series="GSPC", known_series=("GSPC",)
    ).evaluate({"GSPC": px})
    assert got.tolist() == expected.tolist() and got.sum() > 100


# ---------------------------------------------------------------- refusals

REFUSALS = [
    ("__import__('os')", "'"),
    ("().__class__", ")"),
    ("open('x')", "'"),
    ("close; import os", ";"),
    ("lambda: 1", ":"),
    ('"close" > 1', '"'),
    ("VIX.close.real > 1", "."),
    ("close.__class__", "close"),
    ("10**10**10", "*"),
    ("close > 10**10", "*"),
    ("(" * 10_000 + "close > 1" + ")" * 10_000, None),
    ("close > 1 or " * 8_334, None),  # a 100k-character input
    ("clsoe > 1", "clsoe"),
    ("FOO.close > 1", "FOO"),
    ("close[+1] > 1", "+1"),
    ("close[1] > 1", "1"),
    ("close[-1.5] > 1", "-1.5"),
    ("sma(2.5) > 1", "2.5"),
    ("sma(close) > 1", "close"),
    ("sma(0) > 1", "0"),
    (f"sma({MAX_WINDOW + 1}) > 1", str(MAX_WINDOW + 1)),
    ("close[-99999] > 1", "-99999"),
    ("99999999999999999999 > close", "99999999999999999999"),
    ("exec > 1", "exec"),
    ("eval(close) > 1", "eval"),
    ("getattr(close, 1) > 1", "getattr"),
    ("close if 1 else 0", "if"),
    ("[c for c in close]", "["),
    ("close", "close"),
    ("close and open", "close"),
    ("not close", "close"),
    ("gap > 1% and", ""),
    ("", ""),
    ("close > 1 > 0", ">"),
    ("close = 1", "="),
    ("VIX > 30", "VIX"),
    ("sma > 3", "sma"),
    ("close(5) > 1", "close"),
    ("first_in(close, 5)", "close"),
    ("first_in(close > 1)", "first_in"),
    ("not " * 60 + "close > 1", None),
    ("(" * 30 + "close > 1" + ")" * 30, "("),
    ("close > 1 and " * 60 + "close > 1", None),
    ("close\n  > open\n  and clsoe > 1", "clsoe"),
    ("close > 1 \x00", "\x00"),
]


@pytest.mark.parametrize(("text", "token"), REFUSALS, ids=[repr(t[:30]) for t, _ in REFUSALS])
def test_refusals(text, token):
    """Each injection, denial-of-service or mistaken condition is refused with a ConditionError
    naming where (1-based line/column), what (the token) and a fix; none is evaluated."""
    with pytest.raises(ConditionError) as info:
        parse_condition(text, series="GSPC", known_series=CONFIG.daily_keys)
    err = info.value
    assert (
        err.line >= 1
        and err.column >= 1
        and err.fix
        and str(err).startswith("config field `condition`")
    )
    if token is not None:
        assert err.name == token
        lines = text.split("\n")
        if token:  # the reported position points at the offending token
            line = lines[err.line - 1]
            assert line[err.column - 1 : err.column - 1 + len(token)] == token, (err, line)


def test_refusal_details():
    """Suggestions come from the vocabulary and the catalog; positions are within the text."""
    keys = CONFIG.daily_keys

    def refuse(text: str) -> ConditionError:
        with pytest.raises(ConditionError) as info:
            parse_condition(text, series="GSPC", known_series=keys)
        return info.value

    assert refuse("clsoe > 1").suggestions[0] == "close"
    assert "did you mean `close`" in str(refuse("clsoe > 1"))
    assert refuse("vix.close > 1").suggestions == ("VIX",)
    assert refuse("VIX.clsoe > 1").suggestions[0] == "close"
    assert refuse("NDQ.close > 1").suggestions[0] == "NDX"
    assert refuse("rsii(14) > 1").suggestions[0] == "rsi"
    err = refuse("close\n  > open\n  and clsoe > 1")
    assert (err.line, err.column) == (3, 7)
    assert refuse("close[+1] > 1").suggestions == ("-1",)
    assert refuse("close > 1 AND open > 1").suggestions == ("and",)
    assert "ahead" in str(refuse("close[+1] > 1"))
    assert "power" in str(refuse("10**10**10"))
    assert "strings" in str(refuse("open('x')"))
    assert f"more than {MAX_TEXT_LENGTH}" in str(refuse("x" * 100_000))
    too_long = refuse("x" * 100_000)
    assert (too_long.line, too_long.column) == (1, MAX_TEXT_LENGTH + 1)


def test_errors_pickle_and_are_config_errors():
    """A ConditionError crosses process boundaries intact and is a ConfigError."""
    from eventlab.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        parse_condition("clsoe > 1", series="GSPC", known_series=("GSPC",))
    back = pickle.loads(pickle.dumps(info.value))
    assert (back.line, back.column, back.name, back.suggestions, str(back)) == (
        info.value.line,
        info.value.column,
        info.value.name,
        info.value.suggestions,
        str(info.value),
    )


# ---------------------------------------------------------------- what a Condition reports


@pytest.mark.parametrize(
    ("text", "used", "lookback", "uses_open"),
    [
        ("gap > 1% and close < close[-1]", {"GSPC"}, 1, True),
        ("VIX.ret(1) > 20%", {"GSPC", "VIX"}, 1, False),
        ("vix > 30", {"GSPC", "VIX"}, 0, False),
        ("down_streak >= 3 and close <= lowest(50)", {"GSPC"}, 49, False),
        ("gap < -1% and close > open", {"GSPC"}, 1, True),
        ("first_in(close < sma(200), 126)", {"GSPC"}, 199 + 126, False),
        ("NDX.ret(5) > 0 and RUT.ret(5) < 0", {"GSPC", "NDX", "RUT"}, 5, False),
        ("close > highest(50)[-1]", {"GSPC"}, 50, False),
        ("range > 2%", {"GSPC"}, 0, True),
        ("VIX.gap > 5%", {"GSPC", "VIX"}, 1, False),  # another series' opens: not the study's
        ("GSPC.open > close", {"GSPC"}, 0, True),
        ("rsi(14)[-2] < 30", {"GSPC"}, 16, False),
    ],
)
def test_condition_facts(text, used, lookback, uses_open):
    """series_used, lookback and uses_open as the contract defines them."""
    cond = parse_condition(text, series="GSPC", known_series=CONFIG.daily_keys)
    assert (cond.text, cond.series_used, cond.lookback, cond.uses_open) == (
        text,
        used,
        lookback,
        uses_open,
    )


def test_condition_pickles_and_missing_frames_are_named():
    """A Condition pickles (re-parsed from its text); a frame it needs and lacks is named."""
    cond = parse_condition("VIX.close > 30", series="GSPC", known_series=CONFIG.daily_keys)
    back = pickle.loads(pickle.dumps(cond))
    assert back == cond
    with pytest.raises(ConditionError, match="VIX"):
        cond.evaluate({"GSPC": read_series("GSPC")})
    gspc = read_series("GSPC")
    with pytest.raises(ConditionError, match="no column `close`"):
        cond.evaluate({"GSPC": gspc, "VIX": gspc.drop(columns="close")})


def test_other_series_align_by_exact_date():
    """Another series' value is taken from the same date only: no fill across missing days."""
    idx = pd.bdate_range("2024-01-01", periods=5)
    a = pd.DataFrame({c: [1.0] * 5 for c in ("open", "high", "low", "close", "volume")}, index=idx)
    b = a.iloc[[0, 2, 4]].copy()
    b["close"] = [40.0, 40.0, 40.0]
    got = parse_condition("B.close > 30", series="A", known_series=("B",)).evaluate(
        {"A": a, "B": b}
    )
    assert got.tolist() == [True, False, True, False, True]
    # B's own previous session (not the study's previous day) is what B.close[-1] reads.
    got = parse_condition("B.close[-1] > 30", series="A", known_series=("B",)).evaluate(
        {"A": a, "B": b}
    )
    assert got.tolist() == [False, False, True, False, True]


def test_vocabulary_is_documented():
    """Every word appears in docs/studies.md with its usage."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "studies.md").read_text()
    section = doc.split("## Condition language", 1)[1]
    for word in WORDS.values():
        assert f"`{word.usage.split(' or ')[0]}`" in section, word.name


@settings(max_examples=60, deadline=None)
@given(
    source=st.lists(st.integers(0, 40), max_size=30),
    dates=st.lists(st.integers(0, 40), max_size=30),
    sort=st.booleans(),
)
def test_date_positions_match_get_indexer(source, dates, sort):
    """The binary-search alignment equals pandas' get_indexer (sorted or not, missing dates -1)."""
    from eventlab.studies.nodes import positions

    src = sorted(set(source)) if sort else list(dict.fromkeys(source))
    day = pd.Timestamp("2020-01-01")
    src_index = pd.DatetimeIndex([day + pd.Timedelta(days=d) for d in src])
    want = pd.DatetimeIndex([day + pd.Timedelta(days=d) for d in dates])
    np.testing.assert_array_equal(positions(src_index, want), src_index.get_indexer(want))


_TOKENS = st.sampled_from(
    [
        *("close", "open", "gap", "VIX", "B", "vix", "sma", "first_in", "cross_above", "x", "_"),
        *("and", "or", "not", "(", ")", "[", "]", ",", ".", "%", "-", "+", "*", "/", "**"),
        *("<", ">=", "==", "=", "!", "1", "-1", "2.5", "0", "3000", "'", ";", "\n", " ", "\t"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=60), st.lists(_TOKENS, max_size=25).map(" ".join)))
def test_any_text_parses_or_is_refused_cleanly(text):
    """Whatever the text, parse_condition returns a Condition or raises a ConditionError with a
    position inside the text: no other exception escapes, and what parses evaluates."""
    try:
        cond = parse_condition(text, series="A", known_series=("A", "B", "VIX"))
    except ConditionError as err:
        lines = text.split("\n")
        assert 1 <= err.line <= len(lines)
        assert 1 <= err.column <= len(lines[err.line - 1]) + 1
        return
    frame = pd.DataFrame(
        {c: [1.0, 2.0, NAN, 3.0] for c in ("open", "high", "low", "close", "volume")},
        index=pd.bdate_range("2020-01-01", periods=4),
    )
    assert cond.evaluate({"A": frame, "B": frame, "VIX": frame}).dtype == bool
