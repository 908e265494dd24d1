"""Translate a parsed run search into one SQLAlchemy Core ``SELECT run_uuid`` that works on every backend.

Semantics (the same on SQLite, PostgreSQL and MySQL/MariaDB):

* Metric clauses compare the latest value per key (``latest_metrics``), as MLflow does.
* A clause on a metric, param or tag a run does not have never matches, ``!=`` and ``NOT IN``
  included; ``IS NULL`` matches exactly those runs. Likewise an empty attribute column
  (``end_time`` of a running run) matches only ``IS NULL``.
* NaN and infinities behave like Python floats: NaN satisfies only ``!=``; ``+inf > 1e308``.
* String comparisons are exact, by code point: ``=``, ``IN`` and ``LIKE`` are case-sensitive and
  count trailing spaces; ``ILIKE`` ignores case (ASCII letters only on SQLite, which has no Unicode
  case folding built in). In LIKE patterns ``%`` and ``_`` are wildcards and ``\\`` escapes.
* Sorting: numbers, then NaN, then runs without the key, in both directions (MLflow's order);
  strings sort by code point. The tiebreak is ``start_time DESC, run_uuid ASC``.

Every string comparison is a small construct compiled per dialect (``_StringMatch``), because the
statement is built before the dialect is known and the three databases disagree on case rules.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

from autotrack.entities.errors import InvalidParameterError
from autotrack.stores.sql.models import datasets, input_tags, inputs, latest_metrics, params, runs, tags
from autotrack.entities.search import ATTRIBUTE, DATASET, METRIC, PARAM, Comparison, OrderBy, parse_filter, parse_order_by

DATASET_CONTEXT_TAG = "mlflow.data.context"
MAX_RESULTS_THRESHOLD = 100_000  # the store's upper bound on one page (MLflow: 50,000)

FINITE, NAN, POS_INF, NEG_INF = 0, 1, 2, 3  # models: the ``special`` column of metric tables

_ATTRIBUTE_COLUMNS = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "lifecycle_stage": runs.c.lifecycle_stage,
}
_NUMERIC_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_LIKE_ESCAPE = "\\"


def run_search_select(
    experiment_ids: Sequence[int],
    filter_string: str | None,
    lifecycle_stages: Sequence[str],
    order_by: Sequence[str] | None,
    max_results: int,
    offset: int = 0,
) -> sa.Select:
    """``SELECT runs.run_uuid`` of the runs in ``experiment_ids`` and ``lifecycle_stages`` that match
    ``filter_string``, sorted by ``order_by`` then ``start_time DESC, run_uuid``, one page of
    ``max_results`` rows from ``offset``. Raises InvalidParameterError for a bad filter or page size."""
    _check_page(max_results, offset)
    source: sa.FromClause = runs
    conditions: list[ColumnElement[bool]] = [
        runs.c.experiment_id.in_([int(e) for e in experiment_ids]),
        runs.c.lifecycle_stage.in_(list(lifecycle_stages)),
    ]
    for i, comparison in enumerate(parse_filter(filter_string)):
        source, condition = _filter(source, comparison, f"f{i}")
        conditions.append(condition)
    sort_keys: list[ColumnElement[Any]] = []
    orders = parse_order_by(order_by)
    for i, order in enumerate(orders):
        source, keys = _sort(source, order, f"o{i}")
        sort_keys.extend(keys)
    sorted_attributes = {o.key for o in orders if o.entity == ATTRIBUTE}
    if "start_time" not in sorted_attributes:
        sort_keys.append(runs.c.start_time.desc())
    if "run_id" not in sorted_attributes:
        sort_keys.append(runs.c.run_uuid.asc())
    return (
        sa.select(runs.c.run_uuid)
        .select_from(source)
        .where(*conditions)
        .order_by(*sort_keys)
        .limit(max_results)
        .offset(offset)
    )


def _check_page(max_results: int, offset: int) -> None:
    if not isinstance(max_results, int) or isinstance(max_results, bool) or not 0 < max_results <= MAX_RESULTS_THRESHOLD:
        raise InvalidParameterError(f"Invalid max_results {max_results!r}; accepted: an integer from 1 to {MAX_RESULTS_THRESHOLD}")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParameterError(f"Invalid offset {offset!r}; accepted: an integer >= 0")


# -- filters ------------------------------------------------------------------------------------


def _filter(source: sa.FromClause, comparison: Comparison, name: str) -> tuple[sa.FromClause, ColumnElement[bool]]:
    """Add what ``comparison`` needs to ``source``; return the new source and the WHERE condition."""
    if comparison.entity == ATTRIBUTE:
        return source, _compare(_ATTRIBUTE_COLUMNS[comparison.key], comparison.op, comparison.value)
    if comparison.entity == DATASET:
        return source, _dataset_condition(comparison, name)
    table = _key_table(comparison.entity).alias(name)
    owned_key = sa.and_(table.c.run_uuid == runs.c.run_uuid, _StringMatch(table.c.key, "=", comparison.key))
    if comparison.op in ("IS NULL", "IS NOT NULL"):
        present = sa.exists().where(owned_key)
        return source, present if comparison.op == "IS NOT NULL" else ~present
    # At most one row per (run, key) (the primary key), so an inner join filters without duplicating runs
    # and lets the database start from the (key, value) index when that is the selective side.
    if comparison.entity == METRIC:
        return source.join(table, owned_key), _metric_condition(table, comparison.op, comparison.value)
    return source.join(table, owned_key), _compare(table.c.value, comparison.op, comparison.value)


def _dataset_condition(comparison: Comparison, name: str) -> ColumnElement[bool]:
    """Some dataset input of the run has ``name`` / ``digest`` / context (its ``mlflow.data.context``
    input tag) satisfying the clause: an EXISTS over inputs -> datasets (-> input_tags)."""
    link, data = inputs.alias(f"{name}_i"), datasets.alias(f"{name}_d")
    conditions = [
        link.c.destination_type == "RUN", link.c.destination_id == runs.c.run_uuid,
        link.c.source_type == "DATASET", link.c.source_id == data.c.dataset_uuid,
    ]
    if comparison.key == "context":
        tag = input_tags.alias(f"{name}_t")
        conditions += [tag.c.input_uuid == link.c.input_uuid, tag.c.name == DATASET_CONTEXT_TAG,
                       _compare(tag.c.value, comparison.op, comparison.value)]
    else:
        conditions.append(_compare(data.c[comparison.key], comparison.op, comparison.value))
    return sa.exists().where(*conditions)


def _key_table(entity: str) -> sa.Table:
    return {METRIC: latest_metrics, PARAM: params}.get(entity, tags)


def _compare(column: sa.ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    """A string or plain numeric column compared with a literal (attributes, params, tags)."""
    if op == "IS NULL":
        return column.is_(None)
    if op == "IS NOT NULL":
        return column.is_not(None)
    if op in _NUMERIC_OPS and isinstance(value, (int, float)):
        if isinstance(value, float) and math.isinf(value):  # e.g. 1e999: not bindable on MySQL
            return sa.and_(column.is_not(None), sa.true() if _NUMERIC_OPS[op](0, value) else sa.false())
        return _NUMERIC_OPS[op](column, value)
    if op in ("=", "!="):
        match = _StringMatch(column, "=", value)
    elif op in ("IN", "NOT IN"):
        match = _StringMatch(column, "IN", value)
    elif op == "LIKE":
        return _StringMatch(column, "LIKE", value)
    else:  # ILIKE: SQLAlchemy renders ILIKE on PostgreSQL and lower(x) LIKE lower(y) elsewhere
        return column.ilike(_like_pattern(value), escape=_LIKE_ESCAPE)
    # NOT(...) of a NULL column is NULL, so empty columns stay unmatched by != and NOT IN as well.
    return sa.not_(match) if op in ("!=", "NOT IN") else match


def _metric_condition(table: sa.FromClause, op: str, value: float) -> ColumnElement[bool]:
    """``latest value <op> value`` with Python float semantics for NaN and infinities.

    Stored non-finite values are placeholders, so the answer for NaN/+inf/-inf rows is computed here
    in Python and becomes a list of ``special`` codes; finite rows compare their stored value. For
    ordering comparisons a plain range on ``value`` is added: it holds for every matching row (the
    infinities are stored as +-DBL_MAX) and lets the database use the (key, value) index.
    """
    compare = _NUMERIC_OPS[op]
    value_col, special = table.c.value, table.c.special
    matching_specials = [code for code, x in ((NAN, math.nan), (POS_INF, math.inf), (NEG_INF, -math.inf)) if compare(x, value)]
    if math.isinf(value):  # every finite number compares with an infinity the same way
        finite = sa.true() if compare(0.0, value) else sa.false()
    else:
        finite = compare(value_col, value)
    finite_rows = sa.and_(special == FINITE, finite)
    condition = sa.or_(finite_rows, special.in_(matching_specials)) if matching_specials else finite_rows
    if not math.isinf(value) and op in (">", ">=", "<", "<="):
        bound = value_col >= value if op.startswith(">") else value_col <= value
        condition = sa.and_(bound, condition)
    return condition


# -- ordering -----------------------------------------------------------------------------------


def _sort(source: sa.FromClause, order: OrderBy, name: str) -> tuple[sa.FromClause, list[ColumnElement[Any]]]:
    """Add what ``order`` needs to ``source``; return the new source and its ORDER BY terms."""
    if order.entity == ATTRIBUTE:
        column = _ATTRIBUTE_COLUMNS[order.key]
        if order.key in ("start_time", "end_time"):
            return source, _missing_last(column, column, order.ascending)
        return source, _missing_last(column, _ByCodePoint(column), order.ascending)
    table = _key_table(order.entity).alias(name)
    owned_key = sa.and_(table.c.run_uuid == runs.c.run_uuid, _StringMatch(table.c.key, "=", order.key))
    source = source.outerjoin(table, owned_key)
    if order.entity != METRIC:
        return source, _missing_last(table.c.value, _ByCodePoint(table.c.value), order.ascending)
    # rank: 0 numbers, 1 NaN, 2 no such metric; then the stored value, whose +-DBL_MAX placeholders
    # order infinities; then an infinity after an equal finite DBL_MAX.
    rank = sa.case((table.c.special.is_(None), 2), (table.c.special == NAN, 1), else_=0)
    infinity = sa.case((table.c.special == POS_INF, 1), (table.c.special == NEG_INF, -1), else_=0)
    direction: Callable[[Any], Any] = sa.asc if order.ascending else sa.desc
    return source, [rank.asc(), direction(table.c.value), direction(infinity)]


def _missing_last(column: ColumnElement[Any], sort_key: ColumnElement[Any], ascending: bool) -> list[ColumnElement[Any]]:
    """Rows whose ``column`` is NULL after all others, whatever the direction (databases disagree)."""
    missing = sa.case((column.is_(None), 1), else_=0)
    return [missing.asc(), sort_key.asc() if ascending else sort_key.desc()]


# -- dialect-specific string semantics ------------------------------------------------------------


class _StringMatch(ColumnElement[bool]):
    """``column = value``, ``column IN values`` or ``column LIKE pattern``, exact by code point.

    SQLite and PostgreSQL compare exactly already, except SQLite's LIKE, which ignores ASCII case: it
    becomes an equivalent GLOB. MySQL's usual collations ignore case and trailing spaces: the native
    comparison is kept (it can use indexes) and an exact binary comparison is added to it.
    """

    inherit_cache = False  # holds plain Python values; statements with it are simply not cached
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a comparison already: no "= 1" appended on SQLite/MySQL (it would defeat indexes)

    def __init__(self, column: ColumnElement[Any], op: str, value: str | Sequence[str]):
        self.column, self.op, self.value = column, op, value

    def native(self) -> ColumnElement[bool]:
        if self.op == "=":
            return self.column == self.value
        if self.op == "IN":
            return self.column.in_(list(self.value))
        return self.column.like(_like_pattern(self.value), escape=_LIKE_ESCAPE)


class _ByCodePoint(ColumnElement[Any]):
    """A string column as a sort key that orders by code point (SQLite's BINARY order) everywhere."""

    inherit_cache = False

    def __init__(self, column: ColumnElement[Any]):
        self.column = column
        self.type = column.type


@compiles(_StringMatch)
def _compile_match(element: _StringMatch, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.native(), **kw)})"


@compiles(_StringMatch, "sqlite")
def _compile_match_sqlite(element: _StringMatch, compiler: Any, **kw: Any) -> str:
    if element.op != "LIKE":
        return _compile_match(element, compiler, **kw)
    return f"({compiler.process(element.column.op('GLOB', is_comparison=True)(like_to_glob(element.value)), **kw)})"


@compiles(_StringMatch, "mysql")
@compiles(_StringMatch, "mariadb")
def _compile_match_mysql(element: _StringMatch, compiler: Any, **kw: Any) -> str:
    if element.op == "LIKE":  # LIKE compares character by character, without padding, under _bin
        exact = element.column.like(sa.collate(sa.literal(_like_pattern(element.value)), "utf8mb4_bin"), escape=_LIKE_ESCAPE)
    else:
        as_bytes = sa.cast(element.column, sa.LargeBinary)
        if element.op == "=":
            exact = as_bytes == sa.cast(sa.literal(element.value), sa.LargeBinary)
        else:
            exact = as_bytes.in_([sa.cast(sa.literal(v), sa.LargeBinary) for v in element.value])
    return f"({compiler.process(sa.and_(element.native(), exact), **kw)})"  # parenthesized for NOT(...)


@compiles(_ByCodePoint)
def _compile_order(element: _ByCodePoint, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_ByCodePoint, "postgresql")
def _compile_order_pg(element: _ByCodePoint, compiler: Any, **kw: Any) -> str:
    return compiler.process(sa.collate(element.column, "C"), **kw)


@compiles(_ByCodePoint, "mysql")
@compiles(_ByCodePoint, "mariadb")
def _compile_order_mysql(element: _ByCodePoint, compiler: Any, **kw: Any) -> str:
    # bytes, not utf8mb4_bin: that collation pads, so 'rf' and 'rf ' would tie (UTF-8 byte order is code point order)
    return compiler.process(sa.cast(element.column, sa.LargeBinary), **kw)


def _like_pattern(pattern: str) -> str:
    """``pattern`` with a trailing lone escape character doubled: PostgreSQL rejects such patterns,
    the others read the backslash literally, and literally is what it means everywhere here."""
    trailing = len(pattern) - len(pattern.rstrip(_LIKE_ESCAPE))
    return pattern + _LIKE_ESCAPE if trailing % 2 else pattern


def like_to_glob(pattern: str) -> str:
    """The GLOB pattern matching exactly what ``pattern`` LIKE-matches with ``\\`` as escape character."""
    out, chars = [], iter(pattern)
    for char in chars:
        if char == _LIKE_ESCAPE:
            char = next(chars, _LIKE_ESCAPE)  # a trailing backslash stands for itself
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(f"[{char}]" if char in "*?[" else char)
    return "".join(out)
