"""Where sweeps run: this process, local processes, or a Dask cluster; any `concurrent.futures.Executor`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from simulator.errors import InputError

# Dask's `dashboard_address=None` still binds port 8787 (dask/distributed#8136): a free loopback port
# keeps two clusters, or a test and a user's own, from colliding.
LOOPBACK_ANY_PORT = "127.0.0.1:0"


class SerialExecutor(Executor):
    """Runs each task when it is submitted, in this process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:
            future.set_exception(e)
        return future


def make_executor(
    kind: str, scheduler: str | None = None, workers: int | None = None
) -> tuple[Executor, Callable[[], None]]:
    """An executor and how to close it: local processes, this process, or a Dask cluster."""
    if kind == "serial":
        return SerialExecutor(), lambda: None
    if kind == "process":
        pool = ProcessPoolExecutor(workers)
        return pool, pool.shutdown
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--executor", "dask", "Dask is not installed", "pip install -e '.[dask]'") from None
    cluster = (
        None
        if scheduler
        else LocalCluster(
            n_workers=workers or 2, processes=True, threads_per_worker=1, dashboard_address=LOOPBACK_ANY_PORT
        )
    )
    try:
        client = Client(scheduler or cluster, timeout="10s")
    except OSError as e:
        problem = f"cannot reach the Dask scheduler ({e})"
        raise InputError("--scheduler", str(scheduler), problem, "start it, or leave out --scheduler") from None

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return client.get_executor(), close
