"""Ingest job state: the :class:`~archive.models.IngestJob` row is the source of truth.

:mod:`~ingest.jobs.receipt` receives files into encrypted staging and holds claims with
leases (fenced writes), :mod:`~ingest.jobs.operator` is what a records manager does to a
quarantined job (release, retry), and :mod:`~ingest.jobs.sweeper` re-enqueues what a lost
message or a killed worker left behind.
"""

from ingest.jobs.operator import release, retry
from ingest.jobs.receipt import (
    JobError,
    Superseded,
    claim,
    drop_staging,
    fenced,
    finish_job,
    quarantine,
    receive,
    receive_file,
    release_claim,
    set_stage,
    staged_content,
)
from ingest.jobs.sweeper import sweep, workdir_root

__all__ = [
    "JobError",
    "Superseded",
    "claim",
    "drop_staging",
    "fenced",
    "finish_job",
    "quarantine",
    "receive",
    "receive_file",
    "release",
    "release_claim",
    "retry",
    "set_stage",
    "staged_content",
    "sweep",
    "workdir_root",
]
