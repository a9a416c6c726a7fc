"""Create orders in a sandbox shop, random or from a saved payload file.

    manage.py sandbox_create_orders --shop demo-us.myshopify.com --count 25
    manage.py sandbox_create_orders --shop demo-jp.myshopify.com --country JP --currency JPY --sku LS-SERUM-JP
    manage.py sandbox_create_orders --shop demo-us.myshopify.com --file order.json
    manage.py sandbox_create_orders --platform woocommerce --shop demo-woo --count 5
    manage.py sandbox_create_orders --platform woocommerce --shop demo-woo --file orders.json
    manage.py sandbox_create_orders --platform amazon --shop A3SANDBOXSELLER1 --country JP --count 5
    manage.py sandbox_create_orders --platform tiktok --shop <shop id from the store list> --count 5

A file holds orders in the platform's own shape: one order, a list, or a response —
Shopify {"orders": [...]} / {"order": {...}}; WooCommerce a GET /orders list or one order;
TikTok Shop {"data": {"orders": [...]}}; Amazon {"payload": {"Orders": [...]}} or one
Order, each carrying its getOrderItems list as "OrderItems". An id the shop already has
gets a new one. Subscribed webhooks fire for each order (not Amazon: it has none).
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox import amazon, shopify, state, tiktok, woocommerce
from sandbox.models import SandboxShop

PLATFORMS = ("shopify", "woocommerce", "amazon", "tiktok")


def _payloads(document, platform: str = "shopify") -> list[dict]:
    """The orders in a saved document, whichever envelope the platform wraps them in."""
    if platform == "amazon" and isinstance(document, dict):
        document = document.get("payload", document)
        if isinstance(document.get("Orders"), list):
            return document["Orders"]
        if "AmazonOrderId" in document:
            return [document]
    if platform == "tiktok" and isinstance(document, dict):
        document = document.get("data", document)
    if isinstance(document, list) and all(isinstance(order, dict) for order in document):
        return document
    if isinstance(document, dict) and isinstance(document.get("orders"), list):
        return document["orders"]
    if isinstance(document, dict) and isinstance(document.get("order"), dict):
        return [document["order"]]
    if isinstance(document, dict) and "id" in document:
        return [document]
    raise CommandError("The file holds no order: expected an order, a list, or the platform's list response.")


def _read(path: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"{path}: {exc}") from None


class Command(BaseCommand):
    help = "Create sandbox orders for a shop (random, or from a file of platform-shaped orders)."

    def add_arguments(self, parser):
        parser.add_argument("--platform", default="shopify", choices=PLATFORMS)
        parser.add_argument(
            "--shop",
            required=True,
            help="Shopify: the shop's domain (demo.myshopify.com); WooCommerce: the site's name; "
            "Amazon: the seller id; TikTok Shop: the shop id.",
        )
        parser.add_argument("--count", type=int, default=10, help="How many random orders (default 10).")
        parser.add_argument(
            "--file", help="Create the orders in this JSON file (in the platform's order shape) instead of random ones."
        )
        parser.add_argument("--sku", action="append", default=[], help="SKU for random orders (repeatable).")
        parser.add_argument("--country", default="", help="Country of a new shop's buyers, e.g. US or JP.")
        parser.add_argument("--currency", default="", help="Currency of a new shop, e.g. USD or JPY.")
        parser.add_argument("--seed", type=int, help="Seed for reproducible random orders.")
        parser.add_argument("--no-webhooks", action="store_true", help="Do not fire orders/create webhooks.")

    def handle(self, *args, **options):
        domain = options["shop"].strip().lower()
        defaults = {k: options[k].upper() for k in ("country", "currency") if options[k]}
        if "country" in defaults:
            defaults["country_code"] = defaults.pop("country")
        notify = not options["no_webhooks"]
        platform = options["platform"]
        payloads = _payloads(_read(options["file"]), platform) if options["file"] else None
        try:
            if platform == "woocommerce":
                orders = self._woocommerce(domain, defaults, options, notify, payloads)
            elif platform == "amazon":
                orders = self._amazon(options["shop"].strip().upper(), defaults, options, payloads)
            elif platform == "tiktok":
                orders = self._tiktok(domain, options, notify, payloads)
            else:
                orders = self._shopify(domain, defaults, options, notify, payloads)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Created {len(orders)} order(s) in {platform} shop {domain}.")

    def _count(self, options) -> int:
        if options["count"] < 1:
            raise CommandError("--count must be at least 1.")
        return options["count"]

    def _shopify(self, domain, defaults, options, notify, payloads):
        if not shopify.SHOP_DOMAIN.match(domain):
            raise CommandError(f"{domain} is not a myshopify.com domain.")
        shop = state.shop_get_or_create("shopify", domain, **defaults)
        if payloads is not None:
            return shopify.orders_create_from_payloads(shop, payloads, notify=notify)
        return shopify.orders_create_random(
            shop, count=self._count(options), skus=options["sku"] or None, seed=options["seed"], notify=notify
        )

    def _woocommerce(self, site, defaults, options, notify, payloads):
        if not woocommerce.SITE.match(site):
            raise CommandError(f"{site} is not a sandbox site name (lower-case letters, digits and dashes).")
        shop = woocommerce.shop_for(site, **defaults)
        site_url = f"{settings.SANDBOX_BASE_URL}/woocommerce/{site}"
        if payloads is not None:
            return woocommerce.orders_create_from_payloads(shop, payloads, site_url=site_url, notify=notify)
        return woocommerce.orders_create_random(
            shop,
            count=self._count(options),
            site_url=site_url,
            skus=options["sku"] or None,
            seed=options["seed"],
            notify=notify,
        )

    def _amazon(self, seller, defaults, options, payloads):
        if not amazon.SELLER_ID.match(seller):
            raise CommandError(f"{seller} is not a seller id (8-20 capital letters and digits).")
        shop = amazon.seller_for(seller, country=defaults.get("country_code", "US"))
        if payloads is not None:
            return amazon.orders_create_from_payloads(shop, payloads)
        return amazon.orders_create_random(
            shop, count=self._count(options), skus=options["sku"] or None, seed=options["seed"]
        )

    def _tiktok(self, shop_id, options, notify, payloads):
        shop = SandboxShop.objects.filter(platform="tiktok", domain=shop_id).first()
        if shop is None:
            raise CommandError(f"No TikTok sandbox shop {shop_id}: authorize the app for a shop first.")
        if payloads is not None:
            return tiktok.orders_create_from_payloads(shop, payloads, notify=notify)
        return tiktok.orders_create_random(
            shop, count=self._count(options), skus=options["sku"] or None, seed=options["seed"]
        )
