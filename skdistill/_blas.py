"""Control of the BLAS thread pool for small products and for thread-parallel passes."""

from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _blas_controller():
    return ThreadpoolController()


def single_threaded_blas():
    """Context limiting BLAS to one thread, for small dense algebra.

    Multi-threaded BLAS on matrices of tens of rows is slower than one thread, and
    far slower (tens of milliseconds a product, 100x under load) right after a
    large product has left the other BLAS threads spinning. The controller is
    built once (it scans the loaded libraries).
    """
    return _blas_controller().limit(limits=1, user_api="blas")
