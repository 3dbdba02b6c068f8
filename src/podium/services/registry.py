"""The background services that `podium server start` and `podium services start` run.

To add a service, append a `ServiceEntry` to `SERVICES` whose factory
imports the service's module inside the function, so that start-up only
imports the services that run:

    def _create_scheduler(database: Database, settings: Settings) -> Service:
        from podium.services.scheduler import Scheduler

        return Scheduler(database, settings.scheduler_loop_seconds)

    SERVICES.append(ServiceEntry("scheduler", "Creates runs from schedules.", _create_scheduler))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from podium.services.base import Service
from podium.settings import Settings
from podium.storage.database import Database

ServiceFactory = Callable[[Database, Settings], Service]


@dataclass(frozen=True)
class ServiceEntry:
    """A named background service and how to build it."""

    name: str
    description: str
    create: ServiceFactory


SERVICES: list[ServiceEntry] = []


def create_services(database: Database, settings: Settings) -> list[Service]:
    """Build one instance of every registered service over `database`."""
    return [entry.create(database, settings) for entry in SERVICES]


def _create_scheduler(database: Database, settings: Settings) -> Service:
    from podium.services.scheduler import Scheduler

    return Scheduler.from_settings(database, settings)


SERVICES.append(
    ServiceEntry(
        "scheduler",
        "Creates the runs of active deployment schedules.",
        _create_scheduler,
    )
)


def _create_late_runs(database: Database, settings: Settings) -> Service:
    from podium.services.late_runs import MarkLateRuns

    return MarkLateRuns(
        database, settings.late_runs_loop_seconds, settings.late_runs_grace_seconds
    )


def _create_worker_status(database: Database, settings: Settings) -> Service:
    from podium.services.worker_status import UpdateWorkerStatus

    return UpdateWorkerStatus(
        database,
        settings.worker_status_loop_seconds,
        settings.worker_offline_after_seconds,
    )


def _create_cancellation_cleanup(database: Database, settings: Settings) -> Service:
    from podium.services.cancellation_cleanup import CancellationCleanup

    return CancellationCleanup(
        database,
        settings.cancellation_cleanup_loop_seconds,
        settings.cancelling_timeout_seconds,
    )


SERVICES.append(
    ServiceEntry(
        "late_runs",
        "Marks runs that missed their start time as Late.",
        _create_late_runs,
    )
)
SERVICES.append(
    ServiceEntry(
        "worker_status",
        "Marks silent workers OFFLINE and idle pools and queues NOT_READY.",
        _create_worker_status,
    )
)
SERVICES.append(
    ServiceEntry(
        "cancellation_cleanup",
        "Cancels children of cancelled runs and ends abandoned cancellations.",
        _create_cancellation_cleanup,
    )
)


def _create_lease_expiry(database: Database, settings: Settings) -> Service:
    from podium.services.lease_expiry import ExpireLeases

    return ExpireLeases(database, settings.lease_expiry_loop_seconds)


SERVICES.append(
    ServiceEntry(
        "lease_expiry",
        "Releases the concurrency slots of expired leases.",
        _create_lease_expiry,
    )
)


def _create_proactive_triggers(database: Database, settings: Settings) -> Service:
    from podium.automations.service import EvaluateProactiveTriggers

    return EvaluateProactiveTriggers(database)


SERVICES.append(
    ServiceEntry(
        "proactive_triggers",
        "Fires automations whose Proactive triggers saw too few events.",
        _create_proactive_triggers,
    )
)
