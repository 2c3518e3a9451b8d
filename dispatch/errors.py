"""Domain errors the web edge turns into HTTP answers."""


class DispatchError(Exception):
    """Base of the errors a caller can act on."""


class InputError(DispatchError):
    """Input that cannot be accepted; names the offending field (HTTP 422).

    `key` names the refusal for the pages, which say it in the user's language (webapp/i18n.py `error.<key>`).
    """

    def __init__(self, field: str, message: str, *, key: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.key = key


class NotFound(DispatchError):
    """No such ticket, case or squad (HTTP 404)."""


class TransitionRefused(DispatchError):
    """A move the case loop does not allow from the case's state (HTTP 409)."""

    def __init__(self, action: str, from_state: str, to_state: str | None) -> None:
        target = f" → {to_state}" if to_state else ""
        super().__init__(f"cannot {action} a case in state '{from_state}' ({from_state}{target} is not allowed)")
        self.action = action
        self.from_state = from_state
        self.to_state = to_state
