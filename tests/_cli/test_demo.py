"""``skdistill demo``."""

from skdistill._cli import main


def test_demo_unchanged(capsys):
    assert main(["demo", "--sizes", "20"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("skdistill demo: diabetes, 331 training rows x 10 features")
    header = ["m", "exact", "lbfgs", "random", "full", "gap", "exact", "gap", "lbfgs"]
    assert out[1].split() == header
    assert out[3].split()[0] == "20"


def test_demo_explains_the_multiplicative_certificate(capsys):
    assert main(["demo", "--sizes", "20"]) == 0
    footnote = capsys.readouterr().out.splitlines()[-1]
    assert "within a factor 1 ± gap" in footnote and "(1 + gap) / (1 - gap)" in footnote
    assert "||M_syn - M_train||" not in footnote


def test_demo_verbose_reports_each_step_on_stderr(capsys):
    assert main(["demo", "--sizes", "20", "50"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["demo", "--sizes", "20", "50", "-v"]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 4 and all(line.startswith("skdistill demo: [") for line in lines)
    assert "m=50: distilled with solver='lbfgs'" in lines[-1]
    assert "skdistill demo: [" not in out
