"""A throwaway PostgreSQL cluster a test starts, stops and starts again itself.

Debian's postgresql package (installed by `make test`) puts its binaries under
/usr/lib/postgresql/<version>/bin; initdb runs into a temporary folder, as the
postgres user when the tests run as root (as scripts/pg-ensure.sh does).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


def bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in Path(p).parent.name.split(".")
                                                                       if x.isdigit()])
    found = [p for p in found if os.access(os.path.join(p, "initdb"), os.X_OK)]
    return Path(found[-1]) if found else None


class Cluster:
    def __init__(self, port: int) -> None:
        self.bin = bindir()
        assert self.bin is not None, "PostgreSQL binaries not found (apt-get install postgresql)"
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="taiwa-pgfault-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pg = pwd.getpwnam("postgres")
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)

    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def init(self) -> None:
        self._run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8")

    def start(self) -> None:
        # fsync stays on: the test asserts that acknowledged writes survive a stop
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def createdb(self, name: str) -> None:
        self._run(self.bin / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)
