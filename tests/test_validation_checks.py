"""The implied exposure's no-look-ahead check: it passes on the real computation, fails on
deliberately look-ahead ones, and compares rows by their keys whatever their order."""

import numpy as np
import pandas as pd
import pytest

from eventlab.cta import checks as va
from eventlab.cta import exposure as ex
from eventlab.settings.validation import ValidationParams

KEYS = ["index", "model", "window"]


def _walk(n: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2000-01-03", periods=n)
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n))), index=idx)


def _inputs(model) -> tuple:
    """The check's inputs on 700 random sessions (stored table, close, references, bond proxy,
    params); the stored table is `model`'s own output (so only the truncated recomputes can tell)."""
    spx = _walk(700, 1)
    refs = {"sg_trend_index": _walk(700, 2), "sg_cta_index": _walk(700, 3)}
    bond = pd.Series(np.random.default_rng(4).normal(0, 0.004, 700), index=spx.index)
    vp = ValidationParams(windows=(20, 60), percentile_min_periods=20)
    stored = model(spx, refs, vp, bond)
    return stored, spx, refs, bond, vp


def _full_sample_percentile(*args):
    out = ex.exposure_table(*args)
    out["percentile"] = out.groupby(KEYS, observed=True)["slope"].rank(pct=True) * 100.0
    return out


def _slope_from_tomorrow(*args):
    out = ex.exposure_table(*args)
    nxt = out.groupby(KEYS, observed=True)["slope"].shift(-1)
    out["slope"] = nxt.fillna(out["slope"])
    return out


def _only_dates_with_a_week_ahead(*args):
    out = ex.exposure_table(*args)
    last = out.groupby(KEYS, observed=True)["date"].transform("max")
    return out[out["date"] <= last - pd.Timedelta(days=7)].reset_index(drop=True)


@pytest.mark.parametrize(
    "model", [_full_sample_percentile, _slope_from_tomorrow, _only_dates_with_a_week_ahead]
)
def test_exposure_check_fails_on_lookahead(model):
    res = va.exposure_no_lookahead(*_inputs(model), model=model)
    assert res["passed"] is False, model.__name__


def test_exposure_check_passes_on_the_real_table_in_any_row_order():
    res = va.exposure_no_lookahead(*_inputs(ex.exposure_table))
    assert res["passed"] is True and res["metadata"]["max_abs_difference"] < 1e-12

    def reversed_rows(*args):
        return ex.exposure_table(*args).iloc[::-1].reset_index(drop=True)

    res = va.exposure_no_lookahead(*_inputs(reversed_rows), model=reversed_rows)
    assert res["passed"] is True and res["metadata"]["max_abs_difference"] < 1e-12


def test_exposure_valid_names_missing_index_windows():
    vp = ValidationParams(windows=(20, 60), percentile_min_periods=20)
    table = _inputs(ex.exposure_table)[0]
    assert va.exposure_valid(table, vp)["passed"] is True
    res = va.exposure_valid(table[table["window"] != 60], vp)
    assert res["passed"] is False
    assert res["metadata"]["missing_index_windows"] == str(
        [("sg_cta_index", 60), ("sg_trend_index", 60)]
    )


def test_exposure_check_passes_without_a_bond_proxy():
    """A snapshot without the 10-year yield: the single-factor table alone, no bond proxy."""
    stored, spx, refs, _, vp = _inputs(lambda c, r, v, b: ex.exposure_table(c, r, v, None))
    res = va.exposure_no_lookahead(stored, spx, refs, None, vp)
    assert res["passed"] is True and res["metadata"]["max_abs_difference"] < 1e-12
