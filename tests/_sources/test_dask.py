"""Dask input: moments and start rows computed by Dask, on a distributed cluster too."""

import pickle

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from dask.callbacks import Callback  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402

from skdistill import LossMatchingDistiller  # noqa: E402
from skdistill._core.moments import compute_moments  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def _data(n=6000, d=4, t=1, loc=1e3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d))) + loc
    Y = X @ rng.normal(size=(d, t)) + rng.normal(size=(n, t))
    w = rng.exponential(size=n) * (rng.random(n) > 0.1)
    return X, (Y.ravel() if t == 1 else Y), w


def _assert_same_moments(got, want):
    assert got.weight_sum == pytest.approx(want.weight_sum, rel=1e-13)
    scale = np.abs(want.mean).max()
    np.testing.assert_allclose(got.mean, want.mean, rtol=1e-12, atol=1e-13 * scale)
    scale = np.abs(want.comoment).max()
    np.testing.assert_allclose(got.comoment, want.comoment, rtol=1e-11, atol=1e-12 * scale)


@pytest.mark.parametrize("weighted", [False, True])
def test_distributed_moments_equal_numpy(client, weighted):
    X, y, w = _data()
    sw = w if weighted else None
    Xd = da.from_array(X, chunks=(1100, 3))  # ragged row blocks, two column blocks
    yd = da.from_array(y, chunks=700)  # blocks not aligned with X's
    swd = None if sw is None else da.from_array(sw, chunks=1500)
    distiller = LossMatchingDistiller(n_synthetic=12, random_state=0).fit(Xd, yd, sample_weight=swd)
    _assert_same_moments(distiller._stream.moments, compute_moments(X, y[:, None], sw))
    assert distiller.n_samples_seen_ == 6000 and distiller.n_features_in_ == 4
    assert isinstance(distiller.X_synthetic_, np.ndarray) and distiller.y_synthetic_.shape == (12,)
    assert distiller.loss_gap_ < 1e-12
    full = LinearRegression().fit(X, y, sample_weight=sw)
    small = LinearRegression().fit(distiller.X_synthetic_, distiller.y_synthetic_)
    np.testing.assert_allclose(small.coef_, full.coef_, rtol=1e-8)
    # The start rows are real rows (of positive weight), drawn with Dask.
    reservoir = distiller._stream.reservoir
    np.testing.assert_array_equal(reservoir.rows, np.column_stack([X, y])[reservoir.index])
    if weighted:
        assert np.all(w[reservoir.index] > 0)


def test_result_depends_on_random_state_and_blocks_not_on_scheduler(client):
    X, Y, w = _data(n=3000, t=2)
    Xd, Yd = da.from_array(X, chunks=(500, 4)), da.from_array(Y, chunks=(500, 2))
    on_cluster = LossMatchingDistiller(n_synthetic=10, random_state=3).fit(Xd, Yd)
    with dask.config.set(scheduler="sync"):
        local = LossMatchingDistiller(n_synthetic=10, random_state=3).fit(Xd, Yd)
    np.testing.assert_array_equal(on_cluster._stream.reservoir.index, local._stream.reservoir.index)
    np.testing.assert_allclose(on_cluster.X_synthetic_, local.X_synthetic_, rtol=1e-12)
    assert on_cluster.y_synthetic_.shape == (10, 2)
    other = LossMatchingDistiller(n_synthetic=10, random_state=4).fit(Xd, Yd)
    assert not np.array_equal(other._stream.reservoir.index, local._stream.reservoir.index)


class _LargestResult(Callback):
    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, id):
        arrays = [result] if isinstance(result, np.ndarray) else []
        self.largest = max([self.largest] + [a.nbytes for a in arrays])


def test_no_task_holds_more_than_one_block():
    # A lazily generated 200k x 5 array in 20 blocks: 8 MB in all, 400 kB per block.
    rng = da.random.default_rng(0)
    Xd = rng.normal(size=(200_000, 5), chunks=(10_000, 5)) + 1e4
    yd = Xd.sum(axis=1)
    with dask.config.set(scheduler="sync"), _LargestResult() as watch:
        distiller = LossMatchingDistiller(n_synthetic=20, random_state=0).fit(Xd, yd)
    assert distiller.n_samples_seen_ == 200_000 and distiller.loss_gap_ < 1e-10
    assert 0 < watch.largest <= 10_000 * 5 * 8


def test_bad_values_are_found_inside_the_blocks(client):
    X, y, w = _data(n=2000)
    X[1500, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN.*starting at row 1500"):
        LossMatchingDistiller(n_synthetic=10).fit(da.from_array(X, chunks=(300, 4)), y)
    X[1500, 2] = 0.0
    y[7] = np.inf
    with pytest.raises(ValueError, match="Input y contains infinity"):
        LossMatchingDistiller(n_synthetic=10).fit(da.from_array(X, chunks=(300, 4)), y)
    y[7] = 0.0
    w[3] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to sample_weight"):
        LossMatchingDistiller(n_synthetic=10).fit(
            da.from_array(X, chunks=(300, 4)), y, sample_weight=da.from_array(w, chunks=300)
        )


def test_bad_shapes_fail_before_computing():
    X, y, _ = _data(n=200)
    Xd = da.from_array(X, chunks=(50, 4))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LossMatchingDistiller(n_synthetic=10).fit(Xd, y[:-1])
    with pytest.raises(ValueError, match="Expected a 2D"):
        LossMatchingDistiller(n_synthetic=10).fit(Xd[:, 0], y)
    with pytest.raises(ValueError, match="exceeds the number of samples"):
        LossMatchingDistiller(n_synthetic=500).fit(Xd, y)
    unknown = Xd[da.from_array(y, chunks=50) > 0]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        LossMatchingDistiller(n_synthetic=10).fit(unknown, y[:10])
    with pytest.raises(ValueError, match="numeric"):
        LossMatchingDistiller(n_synthetic=10).fit(Xd.astype(str), y)


def test_dask_dataframe_gets_a_clear_error():
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y, _ = _data(n=100)
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=2)
    with pytest.raises(ValueError, match="to_dask_array"):
        LossMatchingDistiller(n_synthetic=10).fit(frame, y)


def test_partial_fit_mixes_dask_and_numpy_chunks(client):
    X, y, w = _data(n=4000, loc=1e6)
    distiller = LossMatchingDistiller(n_synthetic=10, random_state=0)
    distiller.partial_fit(X[:1000], y[:1000], sample_weight=w[:1000])
    distiller.partial_fit(
        da.from_array(X[1000:3000], chunks=(400, 4)), da.from_array(y[1000:3000], chunks=400),
        sample_weight=w[1000:3000],
    )
    distiller.partial_fit(X[3000:], y[3000:], sample_weight=w[3000:])
    assert distiller.n_samples_seen_ == 4000
    _assert_same_moments(distiller._stream.moments, compute_moments(X, y[:, None], w))
    assert distiller.loss_gap_ < 1e-9
    reservoir = distiller._stream.reservoir
    np.testing.assert_array_equal(reservoir.rows, np.column_stack([X, y])[reservoir.index])
    with pytest.raises(ValueError, match="features"):
        distiller.partial_fit(da.from_array(X[:, :3]), y)


def test_float32_dask_gives_float32_synthetic_rows():
    X, y, _ = _data(n=500)
    Xd = da.from_array(X.astype(np.float32), chunks=(100, 4))
    with dask.config.set(scheduler="sync"):
        X_syn, y_syn = LossMatchingDistiller(n_synthetic=8, random_state=0).fit_resample(Xd, y)
    assert X_syn.dtype == np.float32 and y_syn.dtype == np.float64


def test_failed_dask_chunk_leaves_the_stream_alone():
    X, y, _ = _data(n=1000)
    distiller = LossMatchingDistiller(n_synthetic=10, random_state=0).partial_fit(X[:500], y[:500])
    before = pickle.dumps(distiller._stream)
    bad = X[500:].copy()
    bad[100, 0] = np.inf
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match="infinity"):
        distiller.partial_fit(da.from_array(bad, chunks=(100, 4)), y[500:])
    assert pickle.dumps(distiller._stream) == before
    distiller.partial_fit(da.from_array(X[500:], chunks=(100, 4)), y[500:])
    assert distiller.n_samples_seen_ == 1000


_RBF = dict(kernel="rbf", n_components=32, max_iter=100, random_state=0)


def _friedman(n=3000):
    from sklearn.datasets import make_friedman1

    return make_friedman1(n, n_features=5, noise=0.5, random_state=0)


@pytest.mark.parametrize("weighted", [False, True])
def test_rbf_dask_lifts_every_block_through_one_map(client, weighted):
    from skdistill._sources.features import feature_moments

    X, y = _friedman()
    w = np.random.default_rng(0).uniform(0.1, 2.0, len(X)) if weighted else None
    dw = None if w is None else da.from_array(w, chunks=500)
    distiller = LossMatchingDistiller(30, **_RBF).fit(da.from_array(X, chunks=(500, 5)), y, dw)
    stream = distiller._stream
    assert stream.feature_map is distiller.feature_map_
    whole = feature_moments(X, y[:, None], w, distiller.feature_map_.transform, stream.shift)
    _assert_same_moments(stream.relative_moments, whole)
    fitted = LossMatchingDistiller(30, **_RBF).fit(X, y, sample_weight=w)
    assert distiller.gamma_ == pytest.approx(fitted.gamma_, rel=0.2)
    assert distiller.loss_gap_ <= 1.5 * fitted.loss_gap_
    assert distiller.linear_loss_gap_ < 1e-10


def test_rbf_partial_fit_mixes_dask_and_numpy_chunks():
    X, y = _friedman(2000)
    distiller = LossMatchingDistiller(20, **_RBF)
    with dask.config.set(scheduler="sync"):
        distiller.partial_fit(da.from_array(X[:1200], chunks=(300, 5)), y[:1200])
        gamma = distiller.gamma_
        distiller.partial_fit(X[1200:], y[1200:])
    assert distiller.gamma_ == gamma and distiller.n_samples_seen_ == 2000
    assert distiller._stream.relative_moments.weight_sum == 2000
    assert distiller.linear_loss_gap_ < 1e-10


def test_rbf_failed_dask_input_leaves_the_stream_alone():
    X, y = _friedman(1000)
    bad = X.copy()
    bad[700, 1] = np.inf
    distiller = LossMatchingDistiller(10, **_RBF)
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match="infinity"):
        distiller.partial_fit(da.from_array(bad, chunks=(250, 5)), y)
    assert distiller._stream.feature_map is None and distiller._stream.n_samples == 0
    with dask.config.set(scheduler="sync"):
        distiller.partial_fit(da.from_array(X, chunks=(250, 5)), y)
    assert distiller.n_samples_seen_ == 1000


def test_rbf_dask_feature_pass_reports_progress(capsys, monkeypatch):
    import skdistill._sources.dask as dask_source

    monkeypatch.setattr(dask_source, "PROGRESS_SECONDS", 0.0)
    X, y = _friedman(1000)
    with dask.config.set(scheduler="sync"):
        LossMatchingDistiller(10, verbose=1, **{**_RBF, "max_iter": 5}).fit(
            da.from_array(X, chunks=(250, 5)), y
        )
    lines = [line for line in capsys.readouterr().out.splitlines() if "Dask" in line]
    assert lines and lines[-1].startswith("Dask feature pass:")
    done, total = lines[-1].split(": ")[1].split(" Dask")[0].split(" of ")
    assert done == total
