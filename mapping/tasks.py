"""Background runs of large batch imports. Thin: load the rows, call the service.

Both tasks are safe to run twice (a previewed import is not previewed again, an applied
one is not applied again), hence IDEMPOTENT_TASK: a worker lost mid-run leaves the
message to be delivered again. Database hiccups are retried; any other failure, and the
last retry, is recorded on the import, where the page and staff see it. A file that
kills the worker itself is given up after services.MAX_ATTEMPTS deliveries.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _

from distribution.celery import IDEMPOTENT_TASK
from distribution.errors import ApplicationError
from distribution.models import Membership

from . import services
from .models import MappingImport

logger = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": True, "retry_backoff_max": 60, "max_retries": 3}


def _run(task, mapping_import_id: int, work) -> None:
    mapping_import = MappingImport.objects.filter(pk=mapping_import_id).first()
    if mapping_import is None:
        return  # deleted meanwhile: nothing to do
    if not services.mapping_import_attempt(mapping_import=mapping_import):
        return  # the file stopped the importer too often; the import says so
    try:
        work(mapping_import)
    except ApplicationError:
        return  # the service recorded the reason on the import
    except TRANSIENT:
        if task.request.retries >= task.max_retries:
            services.mapping_import_fail(
                mapping_import=mapping_import, message=_("The database was unavailable; please try again.")
            )
        raise
    except SoftTimeLimitExceeded:
        services.mapping_import_fail(
            mapping_import=mapping_import, message=_("The file took too long; split it into smaller files.")
        )
    except Exception:
        logger.exception("mapping import %s failed", mapping_import_id)
        services.mapping_import_fail(
            mapping_import=mapping_import,
            message=_("An unexpected error stopped this import. Please upload the file again or contact staff."),
        )
        raise
    finally:
        # Not reached when the worker dies under the task: that delivery keeps counting.
        services.mapping_import_attempt_done(mapping_import=mapping_import)


@shared_task(bind=True, **RETRY, **IDEMPOTENT_TASK)
def mapping_import_preview_task(self, mapping_import_id: int) -> None:
    _run(self, mapping_import_id, lambda mapping_import: services.mapping_import_preview(mapping_import=mapping_import))


@shared_task(bind=True, **RETRY, **IDEMPOTENT_TASK)
def mapping_import_apply_task(self, mapping_import_id: int, membership_id: int) -> None:
    def apply(mapping_import):
        actor = Membership.objects.select_related("distributor", "user").filter(pk=membership_id).first()
        if actor is None:
            services.mapping_import_fail(
                mapping_import=mapping_import, message=_("The member who confirmed this import has left.")
            )
            return
        services.mapping_import_apply(actor=actor, mapping_import=mapping_import)

    _run(self, mapping_import_id, apply)
