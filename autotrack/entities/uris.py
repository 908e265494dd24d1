"""URIs as they may be shown: :func:`redact_uri` hides credentials, the one helper every message uses."""

from __future__ import annotations

import re

# scheme://user:password@host -> scheme://user:***@host; the password ends at the last '@' before the path
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*:)(?P<secret>[^/?#]*)@")
# ?password=...&token=... in query strings (database drivers and object stores accept both)
_SECRET_QUERY = re.compile(r"(?i)([?&](?:password|passwd|pwd|token|secret|access_token|sig|signature)=)[^&#]*")


def redact_uri(uri: str) -> str:
    """``uri`` with any password or token replaced by ``***``, safe to print or log.

    >>> redact_uri("postgresql://bob:s3cr@t@db:5432/runs?sslmode=require&password=x")
    'postgresql://bob:***@db:5432/runs?sslmode=require&password=***'
    """
    if not isinstance(uri, str):
        return repr(uri)
    redacted = _USERINFO.sub(lambda m: m.group("head") + "***@", uri, count=1)
    return _SECRET_QUERY.sub(r"\1***", redacted)
