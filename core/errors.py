"""Domain errors. Each carries the message a page or the CLI shows as it is."""


class DomainError(Exception):
    """Base class: `str(err)` is a complete sentence for the user."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Invalid(DomainError):
    """Input was rejected; the message names the file, cell or field."""


class Conflict(DomainError):
    """The request clashes with the current state (duplicate, stale version)."""


class Forbidden(DomainError):
    """The caller's role may not do this."""


class Unavailable(DomainError):
    """A dependency (database, remote API) could not be reached."""
