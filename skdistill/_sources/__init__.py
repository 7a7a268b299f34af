"""Where the training rows live -- in memory, a stream of chunks, Dask -- reduced to a Summary.

:class:`~skdistill._sources.summary.Summary` takes in-memory chunks (``fit`` is one
chunk, ``partial_fit`` any number); :mod:`skdistill._sources.dask` reduces Dask
arrays block by block where they live and merges the result into a Summary. Nothing
after the summary touches the training rows again.
"""
