"""Celery settings for both deploy shapes, derived from the archive's own settings.

Embedded default: kombu's SQLAlchemy transport on a SQLite file, so a real worker process
runs beside the web process with no broker server. At scale: Redis or RabbitMQ. Either way
tasks are acknowledged late and rejected if the worker dies, one message is prefetched at a
time, and the IngestJob row (not the message) is what the sweeper trusts.
"""

from __future__ import annotations

from typing import Any

from archive.config import Settings

INGEST_QUEUE = "ingest"
MAINTENANCE_QUEUE = "maintenance"
QUEUES = (INGEST_QUEUE, MAINTENANCE_QUEUE)


def celery_config(settings: Settings) -> dict[str, Any]:
    ingest = settings.ingest
    # The hard limit stays inside the lease so a job is never processed twice at once.
    hard_limit = max(ingest.lease_seconds - 15, 10)
    broker = settings.broker_url
    transport: dict[str, Any] = {}
    if broker.startswith(("redis", "rediss")):
        # Longer than the longest task, so Redis does not redeliver a message in progress.
        transport = {"visibility_timeout": ingest.lease_seconds * 2}
    elif broker.startswith("sqla+sqlite"):
        # kombu hands these to create_engine; it polls the table once a second.
        transport = {"connect_args": {"timeout": 30}}
    return {
        "broker_url": broker,
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 5,
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": hard_limit,
        "task_soft_time_limit": max(hard_limit - 10, 5),
        "task_default_queue": INGEST_QUEUE,
        "task_routes": {"ingest.sweep": {"queue": MAINTENANCE_QUEUE}},
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0.2},
        "beat_schedule": {
            "ingest-sweep": {"task": "ingest.sweep", "schedule": float(ingest.sweep_seconds)}
        },
        "beat_schedule_filename": str(settings.home / "celerybeat-schedule"),
        "worker_hijack_root_logger": False,
    }
