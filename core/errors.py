"""Refusals a user can act on: the message says what happened and what to do, and ``code`` is the
stable name the API answers with. Anything else that escapes a view is a bug (a 500)."""


class UserError(Exception):
    """A request refused for a reason the user can fix or must know; ``str(error)`` is for them."""

    code = "refused"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
