"""Where the tasks run: in this process, a local process pool, or a Dask cluster.

Each executor's :meth:`stream` takes an iterator of :class:`~iondyn.pipeline.task.FileTask`
and yields one :class:`~iondyn.pipeline.store.FileRecord` per task as tasks complete. Only a
bounded window of tasks (a few per worker) is in flight, so memory does not grow with the
number of files and the first results arrive at once.

* :class:`InProcessExecutor` — ``workers=0``: in the calling process (debugging, tests).
* :class:`LocalPoolExecutor` — :class:`concurrent.futures.ProcessPoolExecutor` (``spawn``
  start method, one BLAS thread per worker). A worker that dies (segmentation fault, out of
  memory, killed) breaks the pool: the pool is restarted and the tasks that were in flight are
  re-run one at a time, so the file that kills its worker is identified and recorded as an
  error while the others are analysed normally. Workers exit by themselves when the
  coordinating process disappears (even after SIGKILL).
* :class:`DaskExecutor` — :class:`dask.distributed.Client` on a new
  :class:`~dask.distributed.LocalCluster` (``--cluster local``) or on an existing scheduler
  (``--scheduler tcp://host:port``, failing fast with the address when it does not answer).
  Dask re-runs tasks of lost workers itself and gives up on a task after repeated losses
  (``KilledWorker``), which is then recorded as an error.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from iondyn.errors import InputError
from iondyn.pipeline.store import FileRecord
from iondyn.pipeline.task import FileTask, crash_record, run_task

__all__ = ["DaskExecutor", "InProcessExecutor", "LocalPoolExecutor", "default_workers"]

#: Environment variables that cap the threads of BLAS / OpenMP libraries in worker processes:
#: with one analysis per core, multi-threaded BLAS only oversubscribes (measured: 1.8× slower).
BLAS_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

CRASH_MESSAGE = (
    "the worker process died while analysing this file (crash or out of memory); "
    "rerun with --retry-errors after fixing the cause"
)


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


class InProcessExecutor:
    """Run every task in the calling process, one after the other."""

    name = "in-process"
    workers = 0

    def stream(self, tasks: Iterable[FileTask]) -> Iterator[FileRecord]:
        for task in tasks:
            yield run_task(task)

    def close(self) -> None:
        pass


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Set the BLAS thread variables to 1 (those the user has not set) while worker processes
    are started; the spawned interpreters read them before loading NumPy."""
    added = [v for v in BLAS_THREAD_VARIABLES if v not in os.environ]
    for v in added:
        os.environ[v] = "1"
    try:
        yield
    finally:
        for v in added:
            os.environ.pop(v, None)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            # the coordinator is gone (killed): nobody will collect our results
            os._exit(1)


def _init_worker(parent: int) -> None:
    """Pool worker set-up: Ctrl-C is the coordinator's business; exit with the coordinator."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class LocalPoolExecutor:
    """A local process pool with crash isolation (see the module docstring)."""

    name = "process-pool"

    def __init__(self, workers: int):
        if workers < 1:
            raise InputError(f"the number of workers must be at least 1, got {workers}")
        self.workers = int(workers)
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    def _submit(self, task: FileTask) -> Future:
        if self._pool is None:
            self._pool = self._new_pool()
        # processes are spawned by the first submissions: cap their BLAS threads
        with _single_threaded_blas():
            return self._pool.submit(run_task, task)

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None

    def stream(self, tasks: Iterable[FileTask]) -> Iterator[FileRecord]:
        source = iter(tasks)
        suspects: deque[FileTask] = deque()  # in flight when a worker died: re-run one by one
        pending: dict[Future, FileTask] = {}
        window = 2 * self.workers
        exhausted = False
        while True:
            limit = 1 if suspects else window
            while len(pending) < limit:
                if suspects:
                    task = suspects.popleft()
                elif not exhausted:
                    task = next(source, None)
                    if task is None:
                        exhausted = True
                        break
                else:
                    break
                pending[self._submit(task)] = task
            if not pending:
                if suspects:
                    continue
                return
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            crashed = False
            for future in done:
                task = pending.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    crashed = True
                    suspects_now = [task]
                    break
                yield record
            if crashed:
                suspects_now += list(pending.values())
                pending.clear()
                self._restart()
                if len(suspects_now) == 1:
                    # it ran alone: it is the file that kills its worker
                    yield crash_record(suspects_now[0], CRASH_MESSAGE)
                else:
                    suspects.extend(suspects_now)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _worker_version() -> str:
    from iondyn import __version__

    return __version__


class DaskExecutor:
    """Tasks on a Dask cluster: a new LocalCluster of ``workers`` single-threaded processes,
    or the scheduler at ``scheduler`` (connection timeout ``connect_timeout`` s)."""

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        connect_timeout: float = 10.0,
    ):
        import logging

        from dask.distributed import Client, LocalCluster

        self.cluster = None
        self.scheduler = scheduler
        if scheduler is not None:
            self.name = "dask-scheduler"
            address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
            try:
                self.client = Client(address, timeout=connect_timeout)
            except Exception as exc:
                raise InputError(
                    f"no Dask scheduler answers at {address} within {connect_timeout:g} s "
                    f"({type(exc).__name__}: {' '.join(str(exc).split())})"
                ) from None
        else:
            self.name = "dask-local-cluster"
            self.cluster = LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
        try:
            self.client.wait_for_workers(1, timeout=connect_timeout)
        except Exception:
            self.close()
            raise InputError(
                f"the Dask scheduler at {self.client.scheduler.address} has no workers"
            ) from None
        self.workers = sum(self.client.nthreads().values())
        self._check_versions()

    def _check_versions(self) -> None:
        from iondyn import __version__

        versions = self.client.run(_worker_version)
        wrong = {w: v for w, v in versions.items() if v != __version__}
        if wrong:
            self.close()
            first = next(iter(wrong.items()))
            raise InputError(
                f"Dask worker {first[0]} runs iondyn {first[1]}, this process {__version__}: "
                "install the same iondyn on every worker"
            )

    def stream(self, tasks: Iterable[FileTask]) -> Iterator[FileRecord]:
        from dask.distributed import as_completed

        source = iter(tasks)
        window = max(2 * self.workers, 2)
        pending: dict[Any, FileTask] = {}

        def submit(task: FileTask):
            future = self.client.submit(run_task, task, pure=False)
            pending[future] = task
            return future

        first = [submit(t) for t in _take(source, window)]
        if not first:
            return
        completed = as_completed(first)
        for future in completed:
            task = pending.pop(future)
            try:
                record = future.result()
            except Exception as exc:  # KilledWorker, CancelledError, lost connection
                record = crash_record(task, f"{CRASH_MESSAGE} [{type(exc).__name__}]")
            future.release()
            yield record
            nxt = next(source, None)
            if nxt is not None:
                completed.add(submit(nxt))

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def _take(source: Iterator[FileTask], n: int) -> list[FileTask]:
    out = []
    for _ in range(n):
        item = next(source, None)
        if item is None:
            break
        out.append(item)
    return out
