"""Recalculating a workbook with LibreOffice headless when its formulas carry no saved values.

Tools such as openpyxl write formulas without results. LibreOffice opens the copy in a
throw-away profile (so parallel jobs never share a lock or settings), recalculates on
load, never runs macros, and saves a new .xlsx that the scanner reads again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from core import config

TIMEOUT_SECONDS = 120

# Written into the fresh profile: always recalculate OOXML on load, never run macros.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse">
<value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution"
 oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


class RecalcFailed(Exception):
    pass


def soffice_path() -> str | None:
    configured = config.env("NGI_LIBREOFFICE")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def recalculate(path: Path, *, timeout: float = TIMEOUT_SECONDS) -> Path:
    """A recalculated copy of `path` in a new temp dir (caller removes its parent)."""
    soffice = soffice_path()
    if soffice is None:
        raise RecalcFailed("LibreOffice (soffice) is not installed")
    work = Path(tempfile.mkdtemp(prefix="ngi-recalc-"))
    profile = work / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_REGISTRY)
    source = work / "in" / "workbook.xlsx"
    source.parent.mkdir()
    shutil.copyfile(path, source)
    out = work / "out"
    out.mkdir()
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
           "--nolockcheck", "--nodefault", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out),
           str(source)]
    env = {**os.environ, "HOME": str(work), "SAL_USE_VCLPLUGIN": "svp"}
    # Its own session, so a hung conversion is ended with every helper process it started.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        shutil.rmtree(work, ignore_errors=True)
        raise RecalcFailed(f"LibreOffice did not finish within {int(timeout)} s") from None
    result = out / "workbook.xlsx"
    if proc.returncode != 0 or not result.exists():
        shutil.rmtree(work, ignore_errors=True)
        detail = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
        raise RecalcFailed(f"LibreOffice could not convert the file ({detail[-1] if detail else proc.returncode})")
    shutil.rmtree(profile, ignore_errors=True)
    return result
