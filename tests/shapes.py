"""The shape check: every JSON answer of a documented Mailgun path, validated against the response
schema Mailgun's own OpenAPI document gives for that path, method and status (corrected only by
``mailgun_mock.http.openapi_mailgun.CORRECTIONS``, each correction with its reason).

The ``api`` fixture feeds every answer to :data:`RECORDER`; a mismatch fails the test that caused it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from typing import Any

from mailgun_mock.http.openapi_mailgun import mailgun_document, mailgun_operation, response_schema

#: Answers of statuses Mailgun's document does not list for an operation (errors the mock adds, such
#: as 404 ``Domain not found``) are checked against the mock's own error shape instead.
ERROR_SHAPE = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
_VERSIONED = re.compile(r"^/v[1-5]/")


@functools.lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], str, int]]:
    found = []
    for path in mailgun_document()["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(path)) + "$"
        found.append((re.compile(pattern), path, path.count("{")))
    return sorted(found, key=lambda item: item[2])  # the most literal template wins


def template_for(path: str) -> str | None:
    """Mailgun's path template for a concrete request path (``/v2`` read as ``/v3``), or ``None``."""
    path = path.split("?", 1)[0]
    if path.startswith("/v2/") and not path.startswith(("/v2/x509", "/v2/ip_whitelist", "/v2/bounce-")):
        path = "/v3/" + path[4:]
    for pattern, template, _ in _templates():
        if pattern.match(path):
            return template
    return None


@functools.lru_cache(maxsize=None)
def _schema(template: str, method: str, status: int) -> dict[str, Any] | None:
    return response_schema(template, method, status)


@functools.lru_cache(maxsize=None)
def _validator(template: str, method: str, status: int) -> Any:
    from jsonschema import Draft202012Validator

    # Formats (date-time, email, uri…) are checked too, as schemathesis checks them.
    return Draft202012Validator(_schema(template, method, status) or ERROR_SHAPE,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


@dataclasses.dataclass
class ShapeRecorder:
    """What the suite's answers looked like against Mailgun's document."""

    validated: int = 0
    undocumented_status: int = 0
    exercised: set[str] = dataclasses.field(default_factory=set)
    mismatches: list[str] = dataclasses.field(default_factory=list)

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
        """Validate one answer; answers the problems found (also kept in :attr:`mismatches`)."""
        if not _VERSIONED.match(path) or not content_type.startswith("application/json") or status == 401:
            return []
        template = template_for(path)
        if template is None or mailgun_operation(template, method) is None:
            return []  # a path or method of the mock's own (e.g. DELETE on a stored message)
        schema = _schema(template, method, status)
        if schema is None and status < 400:
            problem = f"{method} {template}: status {status} is not documented"
            self.mismatches.append(problem)
            return [problem]
        self.exercised.add(f"{method.upper()} {template}")
        if schema is None:
            self.undocumented_status += 1
            schema = ERROR_SHAPE
        self.validated += 1
        try:
            data: Any = json.loads(body)
        except ValueError:
            problems = [f"{method} {template} {status}: not JSON"]
        else:
            errors = sorted(_validator(template, method, status).iter_errors(data), key=str)
            problems = [f"{method} {template} {status}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                        for e in errors[:3]]
        self.mismatches.extend(problems)
        return problems

    def to_json(self) -> dict[str, Any]:
        return {"validated": self.validated, "undocumented_status": self.undocumented_status,
                "exercised": sorted(self.exercised), "mismatches": self.mismatches}


RECORDER = ShapeRecorder()


def served_documented_paths() -> tuple[set[str], int]:
    """The paths of Mailgun's document that the mock serves (any method), and how many it documents."""
    from mailgun_mock.backend.core import Backend
    from mailgun_mock.base.config import Config
    from mailgun_mock.http.app import create_app

    app = create_app(Backend(Config()))
    rules = [re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", "x", rule.rule) for rule in app.url_map.iter_rules()]
    served = {template for rule in rules if (template := template_for(rule)) is not None}
    return served, len(mailgun_document()["paths"])
