"""What goes wrong, as Python exceptions that say where.

A Tessera server answers every error with an RFC 9457 problem document (`type`, `title`,
`status`, `detail`, and `where`: the field, tensor or party at fault). `TesseraError` carries
those members as attributes and puts them in its message, so a traceback alone tells the user
what to fix. It is a RuntimeError because Federated Secure Computing's client raises
RuntimeError for an error answer: code written for that client keeps catching ours.
"""

import json

__all__ = ["TesseraError", "TesseraUnreachableError", "TesseraInputError"]


class TesseraError(RuntimeError):
    """The server at `url` answered a problem: `status`, `title`, `detail`, `where`, `type`."""

    def __init__(self, message, status=None, title=None, detail=None, where=None, type=None, url=None):
        super().__init__(message)
        self.status = status
        self.title = title
        self.detail = detail
        self.where = where
        self.type = type
        self.url = url

    @classmethod
    def from_response(cls, url, status, reason, body):
        """Builds the exception from an error answer (a problem document, or any other body)."""
        problem = _problem(body)
        detail = problem.get("detail") or problem.get("message") or _short_text(body) or reason or ""
        title = problem.get("title") or reason or ""
        where = problem.get("where")
        message = "%s %s from %s: %s" % (status, title, url, detail)
        if where:
            message += " (where: %s)" % where
        return cls(message, status=status, title=title, detail=detail, where=where,
                   type=problem.get("type"), url=url)


class TesseraUnreachableError(TesseraError):
    """No answer at all from the server at `url` (refused, unresolvable, timed out)."""

    def __init__(self, url, cause):
        super().__init__("cannot reach the Tessera server at %s: %s" % (url, cause), url=url)
        self.cause = cause


class TesseraInputError(TesseraError, ValueError):
    """A bad argument, found before anything was sent; `where` names it."""

    def __init__(self, detail, where):
        super().__init__("%s (where: %s)" % (detail, where), detail=detail, where=where)


def _problem(body):
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        value = json.loads(body) if body else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _short_text(body):
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return (body or "").strip()[:300]
