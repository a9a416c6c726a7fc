"""Test-only: upload one file through a real import page, in a process of its own.

    python -m tests.distribution.upload_child mapping|orders FILE NAME

Run by tests/distribution/test_hostile_files.py against a fresh SQLite database (the
environment names it), so a file that aborts the process kills only this process. Prints
one line of JSON: what the upload answered, the page the distributor then sees, and the
import's status and message.
"""

import json
import os
import re
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "distribution.settings")
django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from mapping.models import MappingImport  # noqa: E402
from orders.models import OrderImport  # noqa: E402
from stores.models import Platform  # noqa: E402
from tests.distribution.factories import owner_of  # noqa: E402
from tests.stores.factories import StoreFactory  # noqa: E402


def main(importer: str, path: str, name: str) -> dict:
    owner = owner_of()
    store = StoreFactory(distributor=owner.distributor, platform=Platform.OTHER, name="Offline Shop", site="US")
    client = Client()
    client.force_login(owner.user)
    with open(path, "rb") as handle:
        upload = SimpleUploadedFile(name, handle.read())
    if importer == "mapping":
        answer = client.post(reverse("mapping:import"), {"file": upload})
        page = answer
        record = MappingImport.objects.first()
        status, message = (record.status, record.error_message) if record else ("", "")
    else:
        answer = client.post(reverse("orders:import"), {"store": store.pk, "file": upload})
        page = client.get(answer["Location"]) if answer.status_code == 302 else answer
        record = OrderImport.objects.first()
        status, message = (record.status, record.message) if record else ("", "")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode("utf-8", "replace")))
    return {
        "answer": answer.status_code,
        "page": page.status_code,
        "text": text[-4000:],
        "import_status": status,
        "import_message": message,
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
