"""The service conventions of issue 11, checked on the source: every public service in
`core/` takes a keyword-only `actor: Actor`, and every public function that writes calls
`core.access.require` (itself, or through a private helper of its module that does).

Front ends (`core/ui.py`, `core/cli/`) and private `_` functions are not services."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"

# Functions that write but are not services: each runs inside a caller's unit of work (the
# caller checks the capability), or runs before any staff member can exist. None may be
# called from a page. Keep the reason next to the name.
NOT_SERVICES: dict[str, str] = {
    # identity: no actor exists until these succeed
    "core.auth.authenticate": "sign-in itself; counts failures",
    "core.auth.sign_in": "sign-in itself",
    "core.auth.actor_for_oidc_email": "sign-in itself; records last_login_at",
    "core.auth.sync_demo_accounts": "bootstrap: demo accounts before anyone signs in",
    "core.auth.set_password": "building block of change_password (staff.manage)",
    "core.auth.system_actor": "creates the CLI's own system staff row, the actor itself",
    "core.staff_sessions.start": "sign-in itself: the session of the actor who just signed in",
    "core.staff_sessions.sign_in": "sign-in itself",
    "core.staff_sessions.resume": "sign-in itself: a cookie's session, before any actor exists",
    "core.staff_sessions.end": "sign-out of the cookie's own session",
    "core.staff_sessions.revoke_all": "building block of change_password / deactivate (staff.manage)",
    # bootstrap and maintenance run by `ngi db`/`ngi seed`, before or without staff
    "core.schema.upgrade": "migrations",
    "core.schema.downgrade": "migrations",
    "core.catalogue.seed_catalogue": "bootstrap of the activity catalogue",
    "core.companies.seed_curated": "bootstrap of the curated companies",
    "core.demo.seed_demo": "demo database generation",
    "core.demo.seed_demo_cli": "demo database generation",
    "core.demo.grades.seed_grades": "demo database generation (grades in every workflow state)",
    "core.rollup.rebuild_sql.analyze": "planner statistics (ANALYZE), no data change",
    # building blocks called inside a service's transaction
    "core.audit.record": "the audit row of a service's own action",
    "core.rollup.events.apply_event": "derived rollup of a recorded event",
    "core.rollup.rebuild_sql.rebuild": "derived rollup, recomputed from events",
    "core.rollup.submissions.refresh_submissions": "derived rollup, recomputed from submissions",
    "core.progress.refresh": "derived progress, recomputed from events",
    "core.progress.recompute": "derived progress, recomputed from events",
    "core.progress.lapse_streaks": "derived progress: lapsed streaks zeroed by the daily job",
    "core.progress.lapse_streaks_in": "derived progress: lapsed streaks zeroed in a recompute",
    "core.telemetry.record_event": "event of a service's own action",
    "core.telemetry.rebuild_rollup": "derived rollup, recomputed from events",
    "core.telemetry.progress_after_import": "derived progress after an import",
    "core.submissions.record_run": "validator run of submit/revalidate",
    "core.leaderboard_entries.upsert_entry": "leaderboard row of a submission",
    "core.ai_detection.apply": "detection result of a submission just stored",
    "core.feedback.generation.record_issued": "feedback_issued event of generate()",
    "core.feedback.generation.on_submission_validated": "after-commit hook of submit (system actor)",
    "core.submissions.record_outcome": "validator event and leaderboard entry of submit or a recalculation job",
    # erasure: the rows and the ledger written inside students.erase, replayed by `ngi backup restore`
    "core.students.erase_rows": "rows of students.erase and of erasures.replay, in their transaction",
    "core.erasures.record": "ledger row of students.erase, in its transaction",
    "core.erasures.sync_file": "copies ledger rows to the file outside the database",
    "core.erasures.replay": "restore replays erasures newer than the backup (system actor)",
    # operator tools run by `ngi backup` and its systemd timer, not by staff on a page
    "core.backup.run": "takes a backup; changes no learning data (syncs the erasure file)",
    # the background queue: `ngi worker` and the app's in-process runner, as the system actor
    "core.jobs.enqueue": "outbox row written inside submit's own transaction",
    "core.jobs.run": "runs one claimed job; the handlers act as the system actor",
    "core.jobs.handlers.validate_workbook": "job handler (system actor)",
    "core.jobs.handlers.detect_ai": "job handler (system actor)",
    "core.jobs.handlers.generate_feedback": "job handler (system actor)",
    "core.jobs.local.drain": "the in-process runner's loop",
    "core.jobs.pg.drain": "the procrastinate worker's loop",
    "core.jobs.drain": "runs every due job (ngi worker --drain, submissions add --wait)",
    "core.jobs.local.loop": "the in-process runner's thread",
    "core.jobs.pg.make_app": "the procrastinate app whose tasks call jobs.run",
    "core.jobs.pg.work": "ngi worker on PostgreSQL",
}

# Services that must check a capability whatever the heuristic below finds.
MUTATING_SERVICES = {
    "core.students.erase", "core.companies.add_company", "core.auth.add_staff",
    "core.submissions.submit", "core.submissions.revalidate",
}

_BUILDING_BLOCKS = {".".join(name.split(".")[-2:]) for name in NOT_SERVICES}
_WRITE_METHODS = {"add", "add_all", "delete", "merge", "flush", "bulk_save_objects", "bulk_insert_mappings"}
_WRITE_STATEMENTS = {"insert", "update", "delete"}
_WRITE_CALLS = {"session_scope"}
_ENGINE_TYPES = {"Engine", "Session", "Connection"}
_ENGINE_NAMES = {"engine", "session", "engine_or_session", "conn", "connection"}


def _modules():
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("core", "cli") or rel == Path("core/ui.py"):
            continue
        name = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        yield name, ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))


def _public_functions(tree: ast.Module):
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not n.name.startswith("_")]


def _called_names(fn: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def _annotation_names(arg: ast.arg) -> set[str]:
    return {n.id if isinstance(n, ast.Name) else n.attr
            for n in ast.walk(arg.annotation) if isinstance(n, (ast.Name, ast.Attribute))} if arg.annotation else set()


def _takes_database(fn: ast.FunctionDef) -> bool:
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    return any(a.arg in _ENGINE_NAMES or _annotation_names(a) & _ENGINE_TYPES for a in args)


def _writes(fn: ast.FunctionDef, module: str) -> bool:
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
        if name in _WRITE_CALLS:
            return True
        # a call to a building block that writes (audit.record, telemetry.record_event, ...)
        called = (f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                  else f"{module.rsplit('.', 1)[-1]}.{f.id}" if isinstance(f, ast.Name) else None)
        if called in _BUILDING_BLOCKS:
            return True
        if isinstance(f, ast.Attribute) and name in _WRITE_METHODS and not (
                isinstance(f.value, ast.Name) and f.value.id in {"dict", "set", "list", "os", "shutil", "storage"}):
            return True
        if name == "execute" and node.args:
            stmt = node.args[0]
            while isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute):
                stmt = stmt.func.value  # update(X).where(...).values(...) -> update(X)
            if isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Name) and stmt.func.id in _WRITE_STATEMENTS:
                return True
    return False


def _checking_helpers(tree: ast.Module) -> set[str]:
    """Private functions of the module that call `require` (a documented shortcut)."""
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name.startswith("_") and "require" in _called_names(n)}


def test_actor_is_keyword_only_and_typed():
    """`core.access` itself (can, require) and the building blocks above may take the
    actor positionally; everything else takes `*, actor: Actor`."""
    wrong = []
    for module, tree in _modules():
        for fn in _public_functions(tree):
            qualified = f"{module}.{fn.name}"
            positional = fn.args.posonlyargs + fn.args.args
            if any(a.arg == "actor" for a in positional) and module != "core.access" and qualified not in NOT_SERVICES:
                wrong.append(f"{qualified}: actor is positional")
            for a in positional + fn.args.kwonlyargs:
                if a.arg == "actor" and "Actor" not in _annotation_names(a):
                    wrong.append(f"{qualified}: actor is not annotated Actor")
    assert not wrong, "services take `*, actor: Actor`:\n" + "\n".join(wrong)


def test_every_public_writer_checks_a_capability():
    unchecked = []
    seen = set()
    for module, tree in _modules():
        helpers = _checking_helpers(tree)
        for fn in _public_functions(tree):
            qualified = f"{module}.{fn.name}"
            seen.add(qualified)
            if qualified in NOT_SERVICES:
                continue
            mutating = qualified in MUTATING_SERVICES or (_takes_database(fn) and _writes(fn, module))
            if mutating and not ({"require"} | helpers) & _called_names(fn):
                unchecked.append(qualified)
    assert not unchecked, "public writers without core.access.require:\n" + "\n".join(unchecked)
    assert not (set(NOT_SERVICES) | MUTATING_SERVICES) - seen, "stale names in the lists above"


def _passes_actor_on(fn: ast.FunctionDef) -> bool:
    """Delegates to another service with `actor=actor` (which checks in turn)."""
    return any(isinstance(n, ast.keyword) and n.arg == "actor" and isinstance(n.value, ast.Name)
               and n.value.id == "actor" for n in ast.walk(fn))


def test_every_service_with_an_actor_checks_a_capability():
    """A service that takes an actor and ignores it is the bug this test exists for."""
    unchecked = []
    for module, tree in _modules():
        helpers = _checking_helpers(tree)
        for fn in _public_functions(tree):
            qualified = f"{module}.{fn.name}"
            takes_actor = any(a.arg == "actor" for a in fn.args.args + fn.args.kwonlyargs)
            if (takes_actor and _takes_database(fn) and qualified not in NOT_SERVICES
                    and not ({"require"} | helpers) & _called_names(fn) and not _passes_actor_on(fn)):
                unchecked.append(qualified)
    assert not unchecked, "services that take an actor but never check it:\n" + "\n".join(unchecked)


@pytest.mark.parametrize("page", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_call_no_building_block(page):
    """Building blocks skip the capability check, so a page must reach them only through a service."""
    tree = ast.parse(page.read_text(encoding="utf-8"))
    short = {name.rsplit(".", 2)[-2] + "." + name.rsplit(".", 1)[-1] for name in NOT_SERVICES}
    calls = {f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}
    called_as_value = {f"{n.value.id}.{n.attr}" for n in ast.walk(tree)
                       if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    assert not (calls | called_as_value) & short


def test_pages_leave_transactions_to_the_services():
    """Pages call ui.read / ui.write; they never open a unit of work themselves."""
    offenders = [p.name for p in sorted((ROOT / "pages").glob("*.py"))
                 if "session_scope" in p.read_text(encoding="utf-8")]
    assert not offenders


def _page_imports(tree: ast.Module) -> dict[str, str]:
    """Local name → dotted path it stands for (`from core import companies as c`: c → core.companies)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names[local] = alias.name if alias.asname else local
    return names


def _resolve(dotted: str):
    """`core.companies.add_company` → the function (a module path or an attribute of one)."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            target = getattr(target, attr)
        return target
    raise LookupError(dotted)


def _written_services(page: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every function a page passes to `ui.write(`."""
    tree = ast.parse(page.read_text(encoding="utf-8"))
    imports = _page_imports(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "write"
                and isinstance(node.func.value, ast.Name) and imports.get(node.func.value.id) == "core.ui"):
            continue
        assert node.args, f"{page.name}:{node.lineno}: ui.write without a service"
        fn, path = node.args[0], []
        while isinstance(fn, ast.Attribute):
            path.insert(0, fn.attr)
            fn = fn.value
        assert isinstance(fn, ast.Name) and fn.id in imports, \
            f"{page.name}:{node.lineno}: pass ui.write a core service by name, not {ast.unparse(node.args[0])}"
        found.append((node.lineno, ".".join([imports[fn.id], *path])))
    return found


@pytest.mark.parametrize("page", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_every_service_a_page_writes_through_takes_the_engine(page):
    """`ui.write` hands the service the Engine and opens no transaction: a write service
    whose first parameter is a Session would run without its own unit of work."""
    import inspect

    wrong = []
    for line, dotted in _written_services(page):
        first = next(iter(inspect.signature(_resolve(dotted)).parameters.values()), None)
        annotation = str(first.annotation) if first is not None else ""
        if first is None or first.name == "session" or "Session" in annotation:
            wrong.append(f"{page.name}:{line} {dotted}({first})")
    assert not wrong, "write services take `engine: Engine` and open their own unit of work:\n" + "\n".join(wrong)


def test_the_page_write_check_finds_the_writes():
    """The check above is not vacuous: it finds the pages' writes and resolves them."""
    found = {dotted for page in (ROOT / "pages").glob("*.py") for _, dotted in _written_services(page)}
    assert {"core.leaderboard.reveal_identities", "core.review.mark_reviewed", "core.feedback.moderation.flag",
            "core.companies.add_company", "core.grading.save_grade"} <= found
    assert all(callable(_resolve(dotted)) for dotted in found)
