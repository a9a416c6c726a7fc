from django.conf import settings

from .navigation import navigation_for
from .tenancy import portal_context


def portal(request):
    context = portal_context(request) if hasattr(request, "user") else None
    return {
        "portal": context,
        "navigation": navigation_for(request, context),
        "sandbox_enabled": settings.SANDBOX_ENABLED,
    }
