"""Redirects that stay on this site."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, candidate: str | None, default: str) -> str:
    """`candidate` (a `next` parameter) if it points into this site, else `default`.

    `//evil.example/`, `https://evil.example/`, `/\\evil.example` and the like are refused:
    only paths on this host (and the request's scheme) are followed."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
