"""The git commit of the running code, for records that must say which code produced them.

Both an eval run's summary and a stored rating name the commit, so a figure or a complaint can be traced
to the code that made it. Outside a git checkout (an installed wheel) the answer is empty, never an error.
"""
from __future__ import annotations

import subprocess
from functools import cache

from bot.config import ROOT


def git(*args: str) -> str:
    """``git args…`` in the repository, its output stripped; ``""`` when git or the checkout is missing."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


@cache
def running_commit() -> str:
    """HEAD as of the first call: a long-running app keeps naming the code it started with, even after a
    ``git pull`` it has not been restarted for."""
    return git("rev-parse", "HEAD")
