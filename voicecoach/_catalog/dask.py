"""The Dask runner: speech synthesized and sessions rendered as tasks on a cluster (the cluster extra)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from .. import _workers
from .._errors import ClusterError, MissingPartError, VoicecoachError
from .._pipeline.job import SessionJob
from .._speech.engines import portable
from .._speech.engines.base import Clip, SpeechSettings
from .._speech.service import SpeechService
from .._stores import CLUSTER_INSTALL
from .model import CatalogProgress, PlannedSession
from .runners import Coming, SessionDone


def dask_client(address: str) -> tuple[Any, Any]:
    """A Dask client for ``address`` ("local" or "local:N" starts a LocalCluster of N worker processes here), and
    the cluster it started (None for a running scheduler)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingPartError(f"{{@dask}} needs the cluster extra; install it with `{CLUSTER_INSTALL}`") from None
    # Dask logs every start, connection and shutdown at INFO on stderr; the batch reports what matters itself.
    # Dask's own log is not for the user: a failed task comes back as its session's one line. Its ERROR lines are
    # shutdown noise (a worker whose scheduler went first on Ctrl-C logs a ConnectionResetError traceback).
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    if address == "local" or address.startswith("local:"):
        count = address.partition(":")[2] or str(os.cpu_count() or 1)
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f'"{address}" is not local:N; write e.g. {{@dask}} local:2', field="{@dask}")
        with _workers.main_kept_out():
            cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.CRITICAL)
        return Client(cluster), cluster
    try:
        return Client(address, timeout="10s"), None
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({type(error).__name__}); start one with "
                           "`dask scheduler`, or use {@dask} local", field="{@dask}") from None


SPEECH_TASK_PHRASES = 64  # at most this many phrases per synthesis task (a voice's phrases spread over workers)


class DaskRunner:
    """Speech synthesized and sessions rendered as tasks on a Dask cluster.

    Each voice's missing phrases are synthesized by tasks of that (engine, voice) only,
    into the speech cache (which the workers must see: a shared folder or an s3:// store);
    each session is one task that waits for the syntheses it needs. A task whose worker
    dies is retried on another (Dask's retries). The output folder must be one the
    workers see at the same path, or a shared store.
    """

    def __init__(self, address: str, report: CatalogProgress, on_done: SessionDone) -> None:
        self.report, self.on_done = report, on_done
        self.client, self.cluster = dask_client(address)
        self.futures: dict[Any, PlannedSession] = {}
        self.speech: dict[Any, int] = {}  # pending synthesis tasks: how many phrases each makes
        self.reading: list[Any] = []  # tasks that read cached phrases
        self.phrases_done = self.phrases_total = 0
        self.tasks = 0
        if getattr(self.client, "dashboard_link", None):
            report("dask", 0, 0, str(self.client.dashboard_link))

    def _key(self, kind: str, name: str) -> str:
        self.tasks += 1
        return f"voicecoach-{kind}-{name}-{os.getpid()}-{id(self)}-{self.tasks}"

    def clips(self, speech: SpeechService, settings: SpeechSettings, texts: Sequence[str],
              spoken: Callable[[str], str], on_progress: Callable[[int, int], None]
              ) -> tuple[dict[str, Clip], list[Coming]]:
        """One voice's clips, all made or read by tasks on the workers, none here: those the cache has by one task
        that reads them (Dask runs it again elsewhere if the worker holding them dies), the rest by tasks that
        synthesize them, in groups spread over the workers (at most SPEECH_TASK_PHRASES each)."""
        if not portable(settings.engine):  # an engine a program registered for itself speaks only here
            return speech.clips(texts, settings, on_progress=on_progress, spoken=spoken), []
        cached = [text for text in texts if speech.cache.has(settings, spoken(text))]
        missing = sorted(set(texts) - set(cached), key=list(texts).index)
        self.phrases_total += len(texts)
        self.phrases_done += len(cached)
        self._report_speech()

        def task(group: Sequence[str], kind: str) -> Coming:
            future = self.client.submit(_workers.synthesize_task, settings, {text: spoken(text) for text in group},
                                        speech.cache, retries=2, pure=False,
                                        key=self._key(kind, settings.voice_id.replace("/", "-")))
            return frozenset(group), future

        coming = [task(cached, "cached")] if cached else []
        self.reading += [future for _, future in coming]
        threads = max(1, sum(self.client.nthreads().values())) if missing else 1
        size = min(SPEECH_TASK_PHRASES, max(1, -(-len(missing) // threads)))
        for start in range(0, len(missing), size):
            coming.append(task(missing[start:start + size], "speech"))
            self.speech[coming[-1][1]] = len(coming[-1][0])
        return {}, coming

    def _report_speech(self) -> None:
        self.report("speech", self.phrases_done, self.phrases_total, None)

    def submit(self, session: PlannedSession, job: SessionJob, coming: Sequence[Any] = ()) -> None:
        future = self.client.submit(_workers.render_task, job, *coming, retries=2, pure=False,
                                    key=self._key("session", session.name))
        self.futures[future] = session

    def poll(self, timeout_s: float = 0) -> None:
        made = [future for future in self.speech if future.done()]
        for future in made:
            self.phrases_done += self.speech.pop(future)
        if made:
            self._report_speech()
        finished = [future for future in self.futures if future.done()]
        if not finished and timeout_s:
            time.sleep(timeout_s)
        for future in finished:
            session = self.futures.pop(future)
            if future.status == "finished":
                self.on_done(session, future.result())
                continue
            error = future.exception() if future.status == "error" else None
            self.on_done(session, error if isinstance(error, VoicecoachError) else
                         VoicecoachError(f"failed on the cluster: {error!r}") if error is not None else
                         VoicecoachError(f"its task was {future.status} on the cluster; build it again"))

    def finish(self) -> None:
        while self.futures:
            self.poll(timeout_s=0.1)
        self._close()

    def stop(self) -> None:
        """Cancel the cluster's tasks. A session task stopped midway leaves no file: it writes into an unnamed file
        (a scratch folder, for a shared store) and publishes last, each file whole."""
        self.client.cancel([*self.futures, *self.speech, *self.reading])
        self.futures.clear()
        self.speech.clear()
        self._close()

    def _close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
