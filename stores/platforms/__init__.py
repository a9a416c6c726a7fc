"""Platform clients: one module per platform, all behind the interface in base.py.

`get_client(platform, connection)` returns the client for a platform; the modules are
imported on first use, each registering its client class.
"""

from importlib import import_module

PLATFORM_MODULES = ("shopify", "woocommerce", "amazon", "tiktok", "other")


def load_all() -> None:
    for name in PLATFORM_MODULES:
        import_module(f"{__name__}.{name}")


PARSED_PLATFORMS = ("shopify", "woocommerce", "amazon", "tiktok")


def parse_document(platform: str, document, **options):
    """Every NormalizedOrder in a saved payload of `platform` (a pure function: no HTTP)."""
    from distribution.errors import ApplicationError

    if platform not in PARSED_PLATFORMS:
        raise ApplicationError(f"Unknown platform {platform!r}; one of: {', '.join(PARSED_PLATFORMS)}.")
    module = import_module(f"{__name__}.{platform}")
    return module.parse_document(document, **options)
