"""Other platform (no API): a store with a name and a site only; its orders come by import."""

from collections.abc import Mapping

from .base import AuthorizationResult, AuthorizationStart, PayloadError, PlatformClient, PlatformError, register


@register
class OtherPlatformClient(PlatformClient):
    platform = "other"
    auth_kind = "none"

    def start_authorization(self, *, state, redirect_uri, form, server_callback_uri="") -> AuthorizationStart:
        return AuthorizationStart(redirect_url=None)

    def complete_authorization(
        self, *, params, expected_state, redirect_uri, form, delivered_credentials=None
    ) -> AuthorizationResult:
        return AuthorizationResult(credentials={})

    def _no_api(self, *args, **kwargs):
        raise PlatformError("This store's platform has no API: its orders come by importing an order file.")

    fetch_orders = get_order = push_tracking = _no_api

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    @classmethod
    def parse_order(cls, payload):
        raise PayloadError("Orders of a store without an API come by import, not as platform payloads.")
