import logging

from celery import shared_task

from .celery import IDEMPOTENT_TASK
from .services import heartbeat_record

logger = logging.getLogger(__name__)


@shared_task(bind=True, **IDEMPOTENT_TASK)
def heartbeat(self):
    """Beat sends this every minute; staff see the last run in the admin."""
    beat = heartbeat_record(name="beat", hostname=self.request.hostname or "")
    logger.info("heartbeat seen by worker %s (run %s)", beat.hostname, beat.runs)
    return beat.runs
