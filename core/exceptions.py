class ServiceConflict(Exception):  # noqa: N818 - a refusal, not a programming error
    """A write refused because of the state of the data (stale version, last owner, …).

    Views show the message; the API answers 409 with it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
