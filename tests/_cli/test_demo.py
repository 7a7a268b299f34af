"""``skdistill demo``."""

from skdistill._cli import main


def test_demo_unchanged(capsys):
    assert main(["demo", "--sizes", "20"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("skdistill demo: diabetes, 331 training rows x 10 features")
    header = ["m", "exact", "lbfgs", "random", "full", "gap", "exact", "gap", "lbfgs"]
    assert out[1].split() == header
    assert out[3].split()[0] == "20"
