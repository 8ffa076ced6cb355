"""The error tree: every error the mock answers carries its HTTP status and Mailgun message.

::

    MailgunMockError            500 (never raised on purpose: a bug)
    ├── Unauthorized            401 ``Forbidden`` (plain text, as Mailgun answers)
    ├── BadRequest              400
    │   ├── ExpressionError     400, with the position in the expression
    │   ├── ReasonError         400 ``{"Reason": …, "message": …}``, as Mailgun's webhook API answers
    │   └── FieldError          400 ``{"Field": …, "Value": …, "message": …}`` (dynamic IP pools)
    ├── DescribedError          404 or 409 ``{"Description": …, "message": …}`` (DKIM management, x509)
    ├── NotFound                404
    ├── Conflict                409
    ├── MethodNotAllowed        405
    ├── RequestTimeout          408 (a long poll that saw nothing come)
    └── PayloadTooLarge         413

The backend raises these; the one error handler in :mod:`mailgun_mock.http.app` renders
``{"message": ...}`` with :attr:`MailgunMockError.status`.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Conflict",
    "DescribedError",
    "ExpressionError",
    "FieldError",
    "MailgunMockError",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "ReasonError",
    "RequestTimeout",
    "Unauthorized",
]


class MailgunMockError(Exception):
    """Base of every error the mock reports to a client.

    :param message: the text Mailgun (or the mock) puts in ``{"message": ...}``.
    """

    status: int = 500
    #: extra response headers (e.g. ``Retry-After`` on a 429)
    headers: dict[str, str] = {}

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_json(self) -> dict[str, str]:
        """The JSON body Mailgun answers with."""
        return {"message": self.message}


class Unauthorized(MailgunMockError):
    """A missing or wrong API key. Rendered as plain text ``Forbidden``, like Mailgun."""

    status = 401

    def __init__(self, message: str = "Forbidden") -> None:
        super().__init__(message)


class BadRequest(MailgunMockError):
    """Input Mailgun would refuse with 400."""

    status = 400


class ExpressionError(BadRequest):
    """A route filter or action that does not parse or does not validate.

    :param message: what is wrong, e.g. ``unknown function 'match_sender'``.
    :param position: 0-based character offset in the text where the problem is, if known.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        if position is not None:
            message = f"{message} (at character {position + 1})"
        super().__init__(message)
        self.position = position


class ReasonError(BadRequest):
    """A 400 whose body carries Mailgun's capitalised ``Reason`` (webhooks API), and ``message`` too,
    as every other error of the mock does."""

    def to_json(self) -> dict[str, str]:
        return {"Reason": self.message, "message": self.message}


class FieldError(BadRequest):
    """A 400 naming the parameter and the value refused (``{"Field", "Value"}``, as Mailgun's dynamic IP
    pools API answers), with ``message`` too."""

    def __init__(self, message: str, field: str, value: str) -> None:
        super().__init__(message)
        self.field, self.value = field, value

    def to_json(self) -> dict[str, str]:
        return {"Field": self.field, "Value": self.value, "message": self.message}


class DescribedError(MailgunMockError):
    """An error whose body carries Mailgun's capitalised ``Description`` (the DKIM management and x509
    APIs), and ``message`` too, as every other error of the mock does.

    :param status: 404 (the default) or 409.
    """

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status

    def to_json(self) -> dict[str, str]:
        return {"Description": self.message, "message": self.message}


class NotFound(MailgunMockError):
    """A resource that does not exist (or no longer does)."""

    status = 404


class Conflict(MailgunMockError):
    """A resource limit or clash Mailgun answers with 409."""

    status = 409


class MethodNotAllowed(MailgunMockError):
    """An HTTP method the endpoint does not serve."""

    status = 405


class RequestTimeout(MailgunMockError):
    """A wait (``/mock/messages?wait=``) that ended with nothing to answer."""

    status = 408


class PayloadTooLarge(MailgunMockError):
    """A request or message over the configured size limit."""

    status = 413
