"""Print the NormalizedOrder(s) of a saved platform payload as JSON, for staff diagnosing a payload.

manage.py parse_platform_order --platform shopify order.json
manage.py parse_platform_order --platform amazon getOrder.json --items getOrderItems.json
"""

import json
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from distribution.errors import ApplicationError
from stores.platforms import PARSED_PLATFORMS, parse_document


def _load(path: str):
    try:
        # Decimal, never float: a price must print exactly as the platform sent it.
        return json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise CommandError(f"{path} is not JSON: {exc}") from None


class Command(BaseCommand):
    help = "Parse a saved platform order payload and print the NormalizedOrder as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--platform", required=True, choices=PARSED_PLATFORMS)
        parser.add_argument("file", help="A saved response or webhook body (JSON).")
        parser.add_argument("--items", help="Amazon: the getOrderItems response that goes with a getOrder response.")
        parser.add_argument("--raw", action="store_true", help="Include the raw payload in the output.")

    def handle(self, *args, **options):
        document = _load(options["file"])
        extra = {}
        if options["items"]:
            if options["platform"] != "amazon":
                raise CommandError("--items is for Amazon only (its order items come from a separate call).")
            extra["items"] = _load(options["items"])
        try:
            orders = parse_document(options["platform"], document, **extra)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        rendered = [order.to_dict(include_raw=options["raw"]) for order in orders]
        output = rendered[0] if len(rendered) == 1 else rendered
        self.stdout.write(json.dumps(output, indent=2, ensure_ascii=False, default=str))
