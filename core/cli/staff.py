"""`ngi staff add | passwd | list | deactivate`: staff accounts for the dashboard."""

from __future__ import annotations

import getpass
import sys

from core import auth
from core.auth import system_actor
from core.cli._common import command_group, engine
from core.db import session_scope
from core.errors import Invalid
from core.models import STAFF_ROLES


def register(subparsers) -> None:
    actions = command_group(subparsers, "staff", help="staff accounts that sign in to the dashboard")

    add = actions.add_parser("add", help="add a staff account (prompts for a password)")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=STAFF_ROLES)
    add.add_argument("--name", help="display name (default: the part of the email before @)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--no-password", action="store_true", help="OIDC sign-in only; no password")
    add.set_defaults(handler=_add)

    passwd = actions.add_parser("passwd", help="set a staff account's password and lift any lockout")
    passwd.add_argument("email")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(handler=_passwd)

    actions.add_parser("list", help="list staff accounts").set_defaults(handler=_list)

    deactivate = actions.add_parser("deactivate", help="stop an account from signing in (history is kept)")
    deactivate.add_argument("email")
    deactivate.set_defaults(handler=_deactivate)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise Invalid("The two passwords do not match.")
    if len(password) < auth.MIN_PASSWORD_LENGTH:
        raise Invalid(f"Password must be at least {auth.MIN_PASSWORD_LENGTH} characters.")
    return password


def _add(args) -> int:
    password = None if args.no_password else _read_password(args.password_stdin)
    eng = engine()
    user = auth.create_staff(eng, actor=system_actor(eng), email=args.email, role=args.role,
                             display_name=args.name, password=password)
    print(f"added {user.email} as {user.role}" + (" (OIDC sign-in only)" if password is None else ""))
    return 0


def _passwd(args) -> int:
    password = _read_password(args.password_stdin)
    eng = engine()
    user = auth.change_password(eng, actor=system_actor(eng), email=args.email, password=password)
    print(f"password changed for {user.email}")
    return 0


def _list(args) -> int:
    eng = engine()
    with session_scope(eng) as session:
        rows = auth.list_staff(session, actor=system_actor(eng))
    if not rows:
        print("no staff accounts yet; add one with `ngi staff add EMAIL --role admin`")
    for r in rows:
        state = "active" if r["active"] else "inactive"
        extra = " demo" if r["demo"] else ""
        extra += "" if r["password"] else " oidc-only"
        last = r["last_login_at"].strftime("%Y-%m-%d %H:%M") if r["last_login_at"] else "never"
        print(f"{r['email']:<36} {r['role']:<13} {state:<8} last sign-in {last}{extra}")
    return 0


def _deactivate(args) -> int:
    eng = engine()
    user = auth.deactivate_staff(eng, actor=system_actor(eng), email=args.email)
    print(f"{user.email} can no longer sign in")
    return 0
