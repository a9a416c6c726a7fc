"""JSON kept beside an uploaded file: what a check found, so the step after it (apply,
confirm) need not read and check the upload again. The upload itself never changes; the
kept file is named after it (`<upload>.<suffix>.json`) in the same storage."""

import json

from django.core.files.base import ContentFile


def keep_beside(upload, suffix: str, data) -> str:
    """Write `data` as JSON beside `upload` (a FieldFile); the name it is kept under."""
    content = ContentFile(json.dumps(data, ensure_ascii=False).encode())
    return upload.storage.save(f"{upload.name}.{suffix}.json", content)


def kept_beside(upload, name: str):
    """What `keep_beside` kept under `name`, or None when nothing is (no name, file gone)."""
    storage = upload.storage
    if not name or not storage.exists(name):
        return None
    with storage.open(name, "rb") as handle:
        return json.load(handle)
