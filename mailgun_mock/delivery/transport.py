"""How a webhook POST leaves the mock: the :class:`Transport` seam and the real urllib3 one."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import unquote

__all__ = ["HttpTransport", "Transport"]


class Transport(Protocol):
    """Sends one POST; answers the status code or raises ``OSError``/``TimeoutError`` on no answer."""

    def post(self, url: str, body: bytes, content_type: str, timeout: float) -> int: ...


class HttpTransport:
    """The real transport: one ``urllib3`` connection pool shared by the worker threads.

    urllib3 directly rather than ``requests`` on top of it: a webhook is one POST with a ready body,
    and requests' session machinery cost ~0.3 ms of the ~1.4 ms a local POST takes. No redirects
    are followed, no proxy from the environment is used, and urllib3 itself does no retries
    (the delivery schedule does).
    """

    def __init__(self) -> None:
        import urllib3

        self._pool = urllib3.PoolManager(num_pools=32, maxsize=8, retries=False)

    def post(self, url: str, body: bytes, content_type: str, timeout: float) -> int:
        import urllib3

        headers = {"Content-Type": content_type, "User-Agent": "mailgun-mock"}
        try:
            parts = urllib3.util.parse_url(url)
            if parts.auth:  # https://user:pass@host/… : Mailgun sends those as Basic auth (anymail relies on it)
                user, _, password = parts.auth.partition(":")
                headers.update(urllib3.util.make_headers(basic_auth=f"{unquote(user)}:{unquote(password)}"))
                url = parts._replace(auth=None).url
            response = self._pool.request("POST", url, body=body, redirect=False, retries=False, headers=headers,
                                          timeout=urllib3.Timeout(connect=timeout, read=timeout))
        except urllib3.exceptions.NewConnectionError as exc:
            # Checked first: urllib3 makes a failed connection a subclass of its timeout error.
            raise OSError(_reason(exc)) from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise TimeoutError(f"timed out after {timeout:g} s") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise OSError(_reason(exc)) from exc
        except ValueError as exc:  # e.g. a URL urllib3 cannot parse
            raise OSError(f"cannot post to this URL: {exc}") from exc
        return int(response.status)


def _reason(exc: BaseException) -> str:
    # urllib3 nests the useful text (e.g. "Connection refused") a cause or two deep.
    text = str(exc)
    while True:
        if "refused" in str(exc).lower():
            return "connection refused"
        nested = exc.__cause__ or exc.__context__ or getattr(exc, "reason", None)
        if not isinstance(nested, BaseException) or nested is exc:
            return text[:300]
        exc = nested
