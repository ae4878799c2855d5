"""Run a command and write its resource usage: `python -I -S bench/rusage.py OUT.json CMD...`.

A process forked from the benchmark's own (~60 MB) Python starts with the parent's pages
counted in its peak RSS, and Linux keeps that high-water mark across exec: every tool would
report at least the parent's size. This launcher is a bare interpreter (-I -S: no site
packages, ~10 MB), so the tool it forks reports its own peak. OUT.json gets the exit status,
user and system CPU seconds and peak RSS (KiB) of the tool and of the children it waited for.
"""

import json
import os
import sys


def main() -> int:
    """Fork, exec the command, wait4() it, write its usage; exit with its exit code."""
    out, argv = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as handle:  # noqa: PTH123 (no pathlib: stays tiny)
        json.dump(
            {
                "exit_code": code,
                "user_s": usage.ru_utime,
                "system_s": usage.ru_stime,
                "maxrss_kib": usage.ru_maxrss,
            },
            handle,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
