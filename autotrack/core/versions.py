"""Installed-version checks for integrations, stdlib only.

``packaging`` is not a dependency of autotrack, so this module evaluates the PEP 440 specifiers an
integration declares in ``supports`` (``>=1.3,<2``, ``~=2.0``, ``==1.4.*``, ``!=1.5.0``) itself. It
covers release segments, pre/post/dev releases and local labels, which is what version ranges of
ML libraries use; epochs and arbitrary-equality (``===``) are accepted but compared simply.
"""

from __future__ import annotations

import re

_VERSION_RE = re.compile(
    r"^\s*v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre_l>a|alpha|b|beta|c|rc|pre|preview)[-_.]?(?P<pre_n>\d*))?"
    r"(?:-(?P<post_n1>\d+)|[-_.]?(?:post|rev|r)[-_.]?(?P<post_n2>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev_n>\d*))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$",
    re.IGNORECASE,
)
_PRE_ORDER = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_SPEC_RE = re.compile(r"^\s*(===|~=|==|!=|<=|>=|<|>)\s*([^\s<>=!~]\S*)\s*$")

# A comparable key: (epoch, release padded, pre, post, dev). Missing parts use sentinels chosen so
# that 1.0.dev0 < 1.0a1 < 1.0 < 1.0.post1, as PEP 440 orders them.
_INF = float("inf")


def parse_version(text: str) -> tuple:
    """A sortable key for a PEP 440 version string; ``ValueError`` if it is not one."""
    match = _VERSION_RE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a PEP 440 version (expected e.g. '1.4.2', '2.0rc1')")
    release = tuple(int(part) for part in match["release"].split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    pre: tuple = (_INF,)
    if match["pre_l"]:
        pre = (_PRE_ORDER[match["pre_l"].lower()], int(match["pre_n"] or 0))
    post_raw = match["post_n1"] or match["post_n2"]
    has_post = match["post_n1"] is not None or match["post_n2"] is not None
    post = int(post_raw or 0) if has_post else -1
    dev = int(match["dev_n"] or 0) if match["dev_n"] is not None else _INF
    if match["dev_n"] is not None and not match["pre_l"] and not has_post:
        pre = (-1,)  # 1.0.dev0 sorts before 1.0a0
    return (int(match["epoch"] or 0), release, pre, post, dev)


def _release(text: str) -> tuple[int, ...]:
    match = _VERSION_RE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a PEP 440 version")
    return tuple(int(part) for part in match["release"].split("."))


def _is_prerelease(key: tuple) -> bool:
    return key[2] != (_INF,) or key[4] != _INF


def _matches_one(version: str, op: str, target: str) -> bool:
    if op == "===":
        return version.strip() == target.strip()
    if target.endswith(".*"):
        if op not in ("==", "!="):
            raise ValueError(f"wildcard {target!r} is only valid with == or !=")
        prefix = _release(target[:-2])
        same = _release(version)[: len(prefix)] == prefix
        return same if op == "==" else not same
    have, want = parse_version(version), parse_version(target)
    if op == "~=":
        prefix = _release(target)[:-1]
        return have >= want and _release(version)[: len(prefix)] == prefix
    if op == "==":
        return have == want
    if op == "!=":
        return have != want
    if op == ">=":
        return have >= want
    if op == "<=":
        return have <= want
    if op == ">":
        return have > want
    # "<V" excludes pre-releases of V itself unless V is one (PEP 440), so 2.0rc1 is not "<2".
    return have < want and not (_is_prerelease(have) and not _is_prerelease(want) and have[1] == want[1])


def version_matches(version: str, specifier: str) -> bool:
    """Whether ``version`` satisfies every clause of the comma-separated PEP 440 ``specifier``.

    An empty specifier accepts every version.
    """
    for clause in filter(None, (part.strip() for part in specifier.split(","))):
        match = _SPEC_RE.match(clause)
        if match is None:
            raise ValueError(
                f"supports={specifier!r}: clause {clause!r} is not a PEP 440 specifier "
                "(expected e.g. '>=1.3,<2' or '~=2.0')"
            )
        if not _matches_one(version, match[1], match[2]):
            return False
    return True


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` read from its metadata (no import), or None."""
    import importlib.metadata  # only when a target library is being imported anyway

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
