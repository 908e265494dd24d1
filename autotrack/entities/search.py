"""The run search grammar: MLflow's ``filter_string`` and ``order_by`` syntax, parsed into plain objects.

A filter is clauses joined by ``AND`` (``OR`` is not supported), each ``<entity>.<key> <op> <value>``::

    metrics.acc > 0.9 AND params.model = 'rf' AND tags.`team name` ILIKE '%ml%' AND status IN ('FINISHED')

Entities: ``metrics`` (numbers), ``params`` and ``tags`` (quoted strings), ``attributes`` (run columns),
``datasets`` (``datasets.name``, ``datasets.digest``, ``datasets.context``: some dataset the run used
has that value; filters only, not sorts);
a bare attribute name (``status``, ``run_name``, ``start_time``...) means the attribute. Keys with special
characters are quoted with backticks or double quotes; entity names and attribute names may be in
backticks too (```params`.opt``, ```Run name``` = MLflow's alias of ``run_name``). String values use single or double quotes; a
quote inside a value is doubled (``'it''s'``). LIKE/ILIKE patterns use ``%`` and ``_`` wildcards, and a
backslash makes the next character literal (``'100\\%'``). This module only parses; the SQL store
translates the result (``autotrack.stores.sql.search``). It imports nothing beyond the standard library.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

from autotrack.entities.validation import MAX_FILTER_CLAUSES

from autotrack.entities.errors import InvalidParameterError

METRIC = "metric"
PARAM = "param"
TAG = "tag"
ATTRIBUTE = "attribute"
DATASET = "dataset"
DATASET_KEYS = ("name", "digest", "context")  # datasets.<key>: a dataset input of the run has this value

_ENTITY_ALIASES = {
    "metric": METRIC,
    "metrics": METRIC,
    "param": PARAM,
    "params": PARAM,
    "parameter": PARAM,
    "parameters": PARAM,
    "tag": TAG,
    "tags": TAG,
    "attribute": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "attr": ATTRIBUTE,
    "run": ATTRIBUTE,
    "dataset": DATASET,
    "datasets": DATASET,
}

# Attribute names users may write, mapped to the canonical name the store understands.
_ATTRIBUTE_ALIASES = {
    "run_id": "run_id",
    "run_uuid": "run_id",
    "id": "run_id",
    "run_name": "run_name",
    "run name": "run_name",  # MLflow's `Run name` / `Run Name` (keys are looked up lower-cased)
    "status": "status",
    "user_id": "user_id",
    "artifact_uri": "artifact_uri",
    "start_time": "start_time",
    "created": "start_time",
    "end_time": "end_time",
    "lifecycle_stage": "lifecycle_stage",
}
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time"})
# Attributes whose column may be empty, so IS NULL / IS NOT NULL mean something.
NULLABLE_ATTRIBUTES = frozenset({"run_name", "user_id", "artifact_uri", "end_time"})

NUMERIC_OPS = ("=", "!=", ">", ">=", "<", "<=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
NULL_OPS = ("IS NULL", "IS NOT NULL")
LIST_OPS = frozenset({"IN", "NOT IN"})

Value = Union[float, int, str, tuple[str, ...], None]


@dataclass(frozen=True)
class Comparison:
    """One filter clause. ``entity`` is ``metric``/``param``/``tag``/``attribute``; ``op`` is upper case
    (``=``, ``LIKE``, ``NOT IN``, ``IS NULL``...); ``value`` is a number, a string, a tuple of strings
    (IN lists) or None (IS [NOT] NULL)."""

    entity: str
    key: str
    op: str
    value: Value


@dataclass(frozen=True)
class OrderBy:
    """One ``order_by`` item: sort by ``entity``/``key``, ascending unless ``DESC`` was written."""

    entity: str
    key: str
    ascending: bool = True


def accepted_ops(entity: str, key: str) -> tuple[str, ...]:
    """The comparators a clause on ``entity``/``key`` accepts, in the order error messages list them."""
    if entity == METRIC:
        return NUMERIC_OPS + NULL_OPS
    if entity in (PARAM, TAG):
        return STRING_OPS + NULL_OPS
    if entity == DATASET:
        return STRING_OPS
    base = NUMERIC_OPS if key in NUMERIC_ATTRIBUTES else STRING_OPS
    return base + NULL_OPS if key in NULLABLE_ATTRIBUTES else base


def is_numeric(entity: str, key: str) -> bool:
    """Whether values of ``entity``/``key`` are numbers (metrics, start_time, end_time)."""
    return entity == METRIC or (entity == ATTRIBUTE and key in NUMERIC_ATTRIBUTES)


def parse_filter(filter_string: str | None) -> list[Comparison]:
    """Parse an MLflow-style filter into its clauses; None or blank means no filter."""
    if filter_string is None:
        return []
    if not isinstance(filter_string, str):
        raise InvalidParameterError(f"filter_string must be a string, got {type(filter_string).__name__}: {filter_string!r}")
    return _Parser(filter_string, "filter").filter()


def parse_order_by(order_by: Sequence[str] | None) -> list[OrderBy]:
    """Parse ``order_by`` items such as ``metrics.acc DESC``, ``params.lr``, ``start_time ASC``."""
    if order_by is None:
        return []
    if isinstance(order_by, str) or not isinstance(order_by, Sequence):
        raise InvalidParameterError(f"order_by must be a list of strings such as ['metrics.acc DESC'], got {order_by!r}")
    result = []
    for item in order_by:
        if not isinstance(item, str):
            raise InvalidParameterError(f"order_by items must be strings such as 'metrics.acc DESC', got {item!r}")
        result.append(_Parser(item, "order_by").order_item())
    return result


def encode_page_token(offset: int) -> str:
    """An opaque token for the page that starts at ``offset`` (base64 of a small JSON object)."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a token from :func:`encode_page_token` stands for; None or empty means 0."""
    if not token:
        return 0
    try:
        data = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidParameterError(f"Invalid page_token {token!r}: not a token returned by search_runs ({exc})") from None
    offset = data.get("offset") if isinstance(data, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParameterError(f"Invalid page_token {token!r}: expected a non-negative offset, got {data!r}")
    return offset


_PLURAL = {METRIC: "metrics", PARAM: "params", TAG: "tags", ATTRIBUTE: "attributes", DATASET: "datasets"}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_BARE_KEY = re.compile(r"[A-Za-z0-9_.:/\-]+")
_WORD = re.compile(r"[A-Za-z_]+")
_SYMBOL_OP = re.compile(r"[<>=!~^*&|%$#@?]+")
_SPACE = re.compile(r"\s*")


class _Parser:
    """A cursor over one filter string or order_by item; each method consumes one construct."""

    def __init__(self, text: str, what: str):
        self.text = text
        self.what = what  # "filter" or "order_by", for messages
        self.pos = 0

    # -- helpers -------------------------------------------------------------------------------

    def fail(self, problem: str, at: int | None = None) -> InvalidParameterError:
        at = self.pos if at is None else at
        return InvalidParameterError(f"Invalid {self.what} {self.text!r}: {problem} (at position {at})")

    def skip_space(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos).end()

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def peek_word(self) -> str:
        """The upper-cased keyword at the cursor ('' if none), without consuming it."""
        self.skip_space()
        match = _WORD.match(self.text, self.pos)
        return match.group().upper() if match else ""

    def take_word(self) -> str:
        word = self.peek_word()
        self.pos += len(word)
        return word

    # -- grammar -------------------------------------------------------------------------------

    def filter(self) -> list[Comparison]:
        clauses: list[Comparison] = []
        if self.at_end():
            return clauses
        while True:
            clauses.append(self.clause())
            if len(clauses) > MAX_FILTER_CLAUSES:
                raise self.fail(f"more than {MAX_FILTER_CLAUSES} clauses; at most {MAX_FILTER_CLAUSES} are accepted")
            if self.at_end():
                return clauses
            start, word = self.pos, self.take_word()
            if word == "OR":
                raise self.fail("OR is not supported; join clauses with AND", start)
            if word != "AND":
                raise self.fail(f"expected AND between clauses, got {self.token_at(start)!r}", start)
            if self.at_end():
                raise self.fail("expected a clause after AND")

    def clause(self) -> Comparison:
        entity, key = self.identifier()
        name = _display(entity, key)
        op = self.comparator(entity, key, name)
        if op in NULL_OPS:
            return Comparison(entity, key, op, None)
        if op in LIST_OPS:
            return Comparison(entity, key, op, self.string_list(name))
        if is_numeric(entity, key):
            return Comparison(entity, key, op, self.number(name))
        return Comparison(entity, key, op, self.string(name))

    def order_item(self) -> OrderBy:
        if self.at_end():
            raise self.fail("empty order_by item; expected e.g. 'metrics.acc DESC'")
        start = self.pos
        entity, key = self.identifier()
        if entity == DATASET:
            raise self.fail("runs cannot be sorted by datasets; datasets.<field> is for filters", start)
        ascending = True
        if not self.at_end():
            start, word = self.pos, self.take_word()
            if word not in ("ASC", "DESC"):
                raise self.fail(f"expected ASC or DESC after {_display(entity, key)}, got {self.text[start:].strip()!r}", start)
            ascending = word == "ASC"
        if not self.at_end():
            raise self.fail(f"unexpected {self.text[self.pos:]!r} after the sort direction")
        return OrderBy(entity, key, ascending)

    def identifier(self) -> tuple[str, str]:
        """``entity.key`` (key bare or quoted) or a bare attribute name; either may be in backticks, as
        in MLflow (```params`.opt``, ```Run name```)."""
        self.skip_space()
        start = self.pos
        if self.text.startswith("`", start):
            end = self.text.find("`", start + 1)
            if end < 0:
                raise self.fail("unterminated `-quoted name", start)
            word = self.text[start + 1 : end]
            if self.text.startswith(".", end + 1) and word.lower() in _ENTITY_ALIASES:
                entity = _ENTITY_ALIASES[word.lower()]
                self.pos = end + 2
                key = self.key(entity, f"`{word}`")
                return entity, _canonical_key(self, entity, key, start)
            self.pos = end + 1
            return ATTRIBUTE, _canonical_key(self, ATTRIBUTE, word, start)
        match = _WORD.match(self.text, self.pos)
        head = match.group() if match else ""
        if head and self.text.startswith(".", match.end()) and head.lower() in _ENTITY_ALIASES:
            entity = _ENTITY_ALIASES[head.lower()]
            self.pos = match.end() + 1
            key = self.key(entity, head)
            return entity, _canonical_key(self, entity, key, start)
        bare = _BARE_KEY.match(self.text, self.pos)
        word = bare.group() if bare else self.text[self.pos : self.pos + 1]
        if bare and word.lower() in _ATTRIBUTE_ALIASES:
            self.pos = bare.end()
            return ATTRIBUTE, _ATTRIBUTE_ALIASES[word.lower()]
        if "." in word:
            raise self.fail(f"unknown entity {word.split('.', 1)[0]!r} in {word!r}; accepted: metrics, params, tags, attributes", start)
        raise self.fail(
            f"expected an identifier such as metrics.<key>, params.<key>, tags.<key> or an attribute "
            f"({', '.join(sorted(set(_ATTRIBUTE_ALIASES.values())))}), got {word or 'end of input'!r}",
            start,
        )

    def key(self, entity: str, written_entity: str) -> str:
        start = self.pos
        quote = self.text[start : start + 1]
        if quote in ("`", '"'):
            end = self.text.find(quote, start + 1)
            if end < 0:
                raise self.fail(f"unterminated {quote}-quoted key after {written_entity}.", start)
            if end == start + 1:
                raise self.fail(f"empty key after {written_entity}.", start)
            self.pos = end + 1
            return self.text[start + 1 : end]
        match = _BARE_KEY.match(self.text, start)
        if not match:
            raise self.fail(f"expected a key after {written_entity}. (quote keys with special characters in backticks)", start)
        self.pos = match.end()
        return match.group()

    def comparator(self, entity: str, key: str, name: str) -> str:
        self.skip_space()
        start = self.pos
        symbol = _SYMBOL_OP.match(self.text, start)
        if symbol:
            op = symbol.group()
            self.pos = symbol.end()
        else:
            op = self.take_word()
            if op == "NOT":
                op = "NOT " + self.take_word()
            elif op == "IS":
                op = "IS " + self.take_word()
                if op == "IS NOT":
                    op += " " + self.take_word()
        accepted = accepted_ops(entity, key)
        if op not in accepted:
            got = op.strip() or self.text[start:].strip()[:20] or "end of input"
            raise self.fail(f"invalid comparator {got!r} for {name}; accepted: {', '.join(accepted)}", start)
        return op

    def number(self, name: str) -> float | int:
        self.skip_space()
        start = self.pos
        match = _NUMBER.match(self.text, start)
        end = match.end() if match else start
        if not match or (end < len(self.text) and not self.text[end].isspace() and self.text[end] not in ",)"):
            raise self.fail(f"expected a number for {name}, got {self.token_at(start)!r}", start)
        self.pos = match.end()
        text = match.group()
        if re.fullmatch(r"[-+]?\d+", text):
            value = int(text)
            if -(2**63) <= value <= 2**63 - 1:
                return value
        # A float, or an integer beyond the 64-bit range the databases bind: compared as the double
        # it is nearest to (1e999 is infinity), as for every metric value.
        return float(text)

    def string(self, name: str) -> str:
        self.skip_space()
        start = self.pos
        quote = self.text[start : start + 1]
        if quote not in ("'", '"'):
            got = self.token_at(start)
            hint = f" (write {name} = '{got}')" if got != "end of input" else ""
            raise self.fail(f"expected a quoted string for {name}, got {got!r}{hint}", start)
        chunks, i = [], start + 1
        while True:
            end = self.text.find(quote, i)
            if end < 0:
                raise self.fail(f"unterminated string for {name}", start)
            chunks.append(self.text[i:end])
            if self.text.startswith(quote, end + 1):  # a doubled quote stands for one quote character
                chunks.append(quote)
                i = end + 2
                continue
            self.pos = end + 1
            return "".join(chunks)

    def string_list(self, name: str) -> tuple[str, ...]:
        self.skip_space()
        if not self.text.startswith("(", self.pos):
            raise self.fail(f"expected a parenthesized list such as ('a', 'b') for {name}, got {self.token_at(self.pos)!r}")
        self.pos += 1
        values = []
        while True:
            values.append(self.string(name))
            self.skip_space()
            if self.text.startswith(")", self.pos):
                self.pos += 1
                return tuple(values)
            if not self.text.startswith(",", self.pos):
                raise self.fail(f"expected ',' or ')' in the list for {name}, got {self.token_at(self.pos)!r}")
            self.pos += 1

    def token_at(self, at: int) -> str:
        rest = self.text[at:].strip()
        return re.split(r"\s", rest, maxsplit=1)[0] if rest else "end of input"


def _canonical_key(parser: _Parser, entity: str, key: str, start: int) -> str:
    """Attribute keys are checked and mapped to canonical names; dataset keys are checked; other keys
    are returned as written."""
    if entity == DATASET:
        if key not in DATASET_KEYS:
            raise parser.fail(f"unknown dataset field {key!r}; accepted: {', '.join(DATASET_KEYS)}", start)
        return key
    if entity != ATTRIBUTE:
        return key
    canonical = _ATTRIBUTE_ALIASES.get(key.lower())
    if canonical is None:
        accepted = ", ".join(sorted(set(_ATTRIBUTE_ALIASES.values())))
        raise parser.fail(f"unknown attribute {key!r}; accepted: {accepted}", start)
    return canonical


def _display(entity: str, key: str) -> str:
    """How a clause's left side is named in messages, e.g. ``metrics.acc`` or ``metrics.`my key```."""
    shown = key if _BARE_KEY.fullmatch(key) else f"`{key}`"
    return f"{_PLURAL[entity]}.{shown}"
