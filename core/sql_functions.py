"""SQL functions that SQLite and PostgreSQL spell differently, as SQLAlchemy constructs.

Each construct is an expression like `func.count`: the queries in core/analytics.py
and core/rollup/ use it over mapped columns, and it compiles to the engine's own
spelling here (`@compiles`, one spelling per engine). Queries elsewhere never branch
on the dialect to spell SQL; they only decide whether engine-specific upkeep (ANALYZE,
a planner setting) is worth running.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    case,
    cast,
    extract,
    func,
    insert,
    literal,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import (
    ClauseElement,
    Executable,
    FromClause,
    FunctionElement,
)
from sqlalchemy.sql.schema import Table


def _spell(construct: type[FunctionElement], **spellings: Callable[..., ClauseElement]) -> None:
    """Compile `construct` on each engine (keyword: dialect name) to the expression its
    spelling builds from the construct's arguments."""
    for dialect, spelling in spellings.items():
        def _compile(element, compiler, _spelling=spelling, **kw):
            return compiler.process(_spelling(*element.clauses), **kw)

        compiles(construct, dialect)(_compile)


class epoch_seconds(FunctionElement):
    """Whole seconds since 1970 of a UTC instant (floored)."""

    type = BigInteger()
    name = "epoch_seconds"
    inherit_cache = True


_spell(
    epoch_seconds,
    postgresql=lambda instant: cast(func.floor(extract("epoch", instant)), BigInteger),
    # Stored as naive UTC text; the first 19 characters are the whole seconds.
    sqlite=lambda instant: cast(func.strftime("%s", func.substr(instant, 1, 19)), Integer),
)


class local_day(FunctionElement):
    """The calendar date of a UTC instant in the program timezone.

    PostgreSQL converts with the zone's name. SQLite knows no timezones, so it takes
    `offsets` from core.rollup.utc_offset_spans: [(until_utc, offset_seconds)] covering
    the instants the query can meet, the last one open-ended.
    """

    type = Date()
    name = "local_day"
    inherit_cache = True

    def __init__(self, instant, *, zone: str, offsets: Sequence[tuple[datetime, int]] = ()):
        bounds = []
        for until, offset in offsets:
            bounds += [literal(until.strftime("%Y-%m-%d %H:%M:%S"), String), literal(f"{offset} seconds", String)]
        super().__init__(instant, literal(zone, String), *bounds)


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    instant, zone = list(element.clauses)[:2]
    return compiler.process(cast(func.timezone(zone, instant), Date), **kw)


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    instant, _, *bounds = element.clauses
    if not bounds:
        raise ValueError("local_day on SQLite needs the program timezone's UTC offsets")
    spans = list(zip(bounds[0::2], bounds[1::2]))
    if len(spans) == 1:
        shift = spans[0][1]
    else:
        shift = case(*[(instant < until, offset) for until, offset in spans[:-1]], else_=spans[-1][1])
    return compiler.process(func.date(instant, shift), **kw)


class _date_trunc(FunctionElement):
    """A date truncated to the start of its `unit`: date_trunc on PostgreSQL, date()
    with `sqlite_modifiers` on SQLite. Subclasses name the unit; the compilers below
    serve them all."""

    type = Date()
    inherit_cache = True
    unit: str
    sqlite_modifiers: tuple[str, ...]


class week_start(_date_trunc):
    """The Monday on or before a date."""

    name = "week_start"
    inherit_cache = True
    unit = "week"
    # Forward to the next Sunday (or stay on one), then back six days: that week's Monday.
    sqlite_modifiers = ("weekday 0", "-6 days")


class days_between(FunctionElement):
    """Whole days from the first date to the second (dates, not instants)."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


_spell(
    days_between,
    postgresql=lambda first, second: cast(second, Date) - cast(first, Date),
    sqlite=lambda first, second: cast(func.julianday(second) - func.julianday(first), Integer),
)


class month_start(_date_trunc):
    """The first day of a date's month."""

    name = "month_start"
    inherit_cache = True
    unit = "month"
    sqlite_modifiers = ("start of month",)


@compiles(_date_trunc, "postgresql")
def _date_trunc_postgresql(element, compiler, **kw):
    (day,) = element.clauses
    return compiler.process(cast(func.date_trunc(element.unit, day), Date), **kw)


@compiles(_date_trunc, "sqlite")
def _date_trunc_sqlite(element, compiler, **kw):
    (day,) = element.clauses
    return compiler.process(func.date(day, *element.sqlite_modifiers), **kw)


class json_array_items(FunctionElement):
    """Table-valued: the elements (column `value`) of the JSON array held in a
    document's `member`, or in the document itself when no member is given; no rows
    when that is not an array or the document is not valid JSON."""

    name = "json_array_items"
    inherit_cache = True

    def __init__(self, document, member: str | None = None):
        super().__init__(document, *([literal(member, String)] if member is not None else []))


@compiles(json_array_items, "postgresql")
def _json_array_items_postgresql(element, compiler, **kw):
    document, *member = element.clauses
    array = document.op("->")(member[0]) if member else document
    items = case((func.jsonb_typeof(array) == "array", array), else_=cast(literal("[]", String), JSONB))
    kw.pop("asfrom", None)
    return compiler.process(func.jsonb_array_elements(items), **kw)


@compiles(json_array_items, "sqlite")
def _json_array_items_sqlite(element, compiler, **kw):
    document, *member = element.clauses
    valid = case((func.json_valid(document), document))
    kw.pop("asfrom", None)
    if member:
        return compiler.process(func.json_each(valid, literal("$.", String) + member[0]), **kw)
    return compiler.process(func.json_each(case((func.json_type(valid) == "array", document))), **kw)


class json_text(FunctionElement):
    """A member of a JSON object as text (NULL when absent)."""

    type = String()
    name = "json_text"
    inherit_cache = True

    def __init__(self, document, member: str):
        super().__init__(document, literal(member, String))


_spell(
    json_text,
    postgresql=lambda document, member: document.op("->>")(member),
    sqlite=lambda document, member: func.json_extract(document, literal("$.", String) + member),
)


class analyze(Executable, ClauseElement):
    """ANALYZE one table: refresh the planner's statistics after a bulk load."""

    inherit_cache = False

    def __init__(self, table: FromClause):
        self.table = table


@compiles(analyze)
def _analyze(element, compiler, **kw):
    return "ANALYZE " + compiler.preparer.format_table(element.table)


class copy_from_stdin(Executable, ClauseElement):
    """PostgreSQL's COPY … FROM STDIN for `columns` of a table (psycopg's cursor.copy
    takes its text): the bulk path for imports."""

    inherit_cache = False

    def __init__(self, table: Table, columns):
        self.table, self.columns = table, [table.c[name] for name in columns]


@compiles(copy_from_stdin, "postgresql")
def _copy_from_stdin(element, compiler, **kw):
    columns = ", ".join(compiler.preparer.format_column(column) for column in element.columns)
    return "COPY " + compiler.preparer.format_table(element.table) + " (" + columns + ") FROM STDIN"


def bulk_insert_sql(connection, model, columns: tuple[str, ...]) -> str:
    """The driver-level text of the bulk insert paths, compiled from the mapped table:
    COPY … FROM STDIN on PostgreSQL, an INSERT for executemany on SQLite. Rows go in
    as tuples in `columns` order."""
    table = model.__table__
    if connection.dialect.name == "postgresql":
        return str(copy_from_stdin(table, columns).compile(dialect=connection.dialect))
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != tuple(columns):
        raise RuntimeError(f"{table.name}: bulk columns {columns} are not in table order")
    return str(compiled)
