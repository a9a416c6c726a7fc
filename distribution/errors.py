"""The one error hierarchy: services raise ApplicationError; views and commands
turn it into a message a person can act on."""


class ApplicationError(Exception):
    def __init__(self, message, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)


class PermissionDeniedError(ApplicationError):
    """The acting user may not do this (role, or a suspended distributor)."""
