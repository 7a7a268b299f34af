"""From table columns to arrays: column planning, numeric checks, one-hot encoding."""

import numpy as np
import pytest

from skdistill._cli.columns import matrices, one_hot, plan_columns
from skdistill._cli.console import CommandError


@pytest.mark.parametrize(
    "content, expected",
    [
        ("a,b,y\n1,2,3\n4,,6\n7,8,9\n", ["missing", "'b'"]),
        ("a,y\n1,x\n2,y\n", ["target column is not numeric", "'y'"]),
        ("a,y,sample_weight\n1,2,3\n4,5,6\n", ["already has a column 'sample_weight'"]),
    ],
)
def test_bad_columns(distill_error, content, expected):
    line = distill_error(content)
    for text in expected:
        assert text in line


def test_plan_columns_keeps_input_order():
    names = ["a", "y2", "w", "b", "y1"]
    assert plan_columns(names, ["y1", "y2"], "w", "f.csv") == (["a", "b"], ["y2", "y1"])
    with pytest.raises(CommandError, match="both a target and the sample weight"):
        plan_columns(names, ["y1", "w"], "w", "f.csv")
    with pytest.raises(CommandError, match="no feature columns"):
        plan_columns(["y"], ["y"], None, "f.csv")


def test_matrices_check_text_before_missing_values():
    by_name = {"a": np.array([1.0, np.nan]), "y": np.array(["u", "v"], dtype=object)}
    with pytest.raises(CommandError, match="target column is not numeric: 'y'$"):
        matrices(by_name, ["a"], ["y"], None)
    by_name["y"] = np.array([1, 2])
    with pytest.raises(CommandError, match=r"missing or infinite values in 1 row\(s\)"):
        matrices(by_name, ["a"], ["y"], None)
    by_name["a"] = np.array([1.0, 2.0])
    X, y, w = matrices(by_name, ["a"], ["y"], None)
    assert X.shape == (2, 1) and y.shape == (2,) and w is None


def test_one_hot_refuses_clashes_and_missing_values():
    city = np.array(["Lyon", "Nice"], dtype=object)
    with pytest.raises(CommandError, match="'city_Nice' would clash"):
        one_hot(["city", "city_Nice"], [city, np.ones(2)], ["city", "city_Nice"])
    with pytest.raises(CommandError, match="1 missing value"):
        one_hot(["city"], [np.array(["Lyon", None], dtype=object)], ["city"])
