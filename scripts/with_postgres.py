#!/usr/bin/env python3
"""Run a command against a throwaway PostgreSQL server (Debian's binaries) on a free local port.

    scripts/with_postgres.py -- .venv/bin/python -m pytest

The server lives in a temporary directory, trusts local connections only, and is stopped and
removed when the command ends (also on Ctrl-C). The command gets DATABASE_URL.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def _bindir() -> str:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        sys.exit("PostgreSQL is not installed: apt-get install postgresql (scripts/setup.sh does).")
    return os.path.dirname(candidates[-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    if not command:
        sys.exit(__doc__)
    bindir, port = _bindir(), _free_port()
    folder = tempfile.mkdtemp(prefix="likeness-pg-")
    data = os.path.join(folder, "data")
    if os.geteuid() == 0:
        server_user = pwd.getpwnam("postgres")
        os.chown(folder, server_user.pw_uid, server_user.pw_gid)
    log = os.path.join(folder, "server.log")
    try:
        subprocess.run(
            _as_server_user(
                [
                    f"{bindir}/initdb",
                    "-D",
                    data,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off"
        subprocess.run(
            _as_server_user(
                [f"{bindir}/pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        url = f"postgres://postgres@127.0.0.1:{port}/likeness"
        for _ in range(50):
            if (
                subprocess.run(
                    [f"{bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(port)],
                    stdout=subprocess.DEVNULL,
                ).returncode
                == 0
            ):
                break
            time.sleep(0.1)
        subprocess.run(
            [
                f"{bindir}/createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "likeness",
            ],
            check=True,
        )
        print(f"==> PostgreSQL on 127.0.0.1:{port} ({folder})", flush=True)
        return subprocess.run(command, env={**os.environ, "DATABASE_URL": url}).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        subprocess.run(
            _as_server_user([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
