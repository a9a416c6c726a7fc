"""The sandbox's index. Emulators of outside platforms mount beside it as they are built.

This app imports nothing from the platform's own apps: its wire formats come from
the platforms' documentation, never from our parsers.
"""

from django.http import JsonResponse

EMULATORS: list[dict] = []


def index(request):
    return JsonResponse({"sandbox": True, "emulators": EMULATORS})
