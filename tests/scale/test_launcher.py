"""`python -m webapp deploy`: starts the web processes and prints their URLs, restarts none, stops all on SIGTERM."""
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from tests.scale.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_starts_reports_and_stops_every_process(empty_postgres_url, redis_url, tmp_path) -> None:
    (tmp_path / "city.yaml").write_text(f"app:\n  instance_dir: {tmp_path}\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": empty_postgres_url, "REDIS_URL": redis_url,
           "GRIDPATROL_CONFIG": str(tmp_path / "city.yaml"), "GRIDPATROL_METRICS_TOKEN": "launcher-test"}
    env.pop("GRIDPATROL_SECRET_KEY", None)
    port = free_port()
    launcher = subprocess.Popen([sys.executable, "-m", "webapp", "deploy", "--web", "2", "--base-port", str(port),
                                 "--log-dir", str(tmp_path / "logs")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(launcher.stdout), name="launcher-output")
    reader.start()
    pids: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 90
        while not any(line.startswith("ready:") for line in lines) and time.monotonic() < deadline:
            assert launcher.poll() is None, "".join(lines)
            time.sleep(0.2)
        for line in lines:
            if found := re.match(r"web:\d+ pid (\d+) (http://\S+)/$", line.strip()):
                pids[found[2]] = int(found[1])
        assert list(pids) == [f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"], "".join(lines)
        for url, pid in pids.items():
            assert requests.get(f"{url}/healthz", timeout=5).json() == {"status": "ok", "pid": pid, "database": "up"}
            metrics = requests.get(f"{url}/metrics", headers={"Authorization": "Bearer launcher-test"}, timeout=5)
            assert metrics.status_code == 200 and "gridpatrol_detection_reports" in metrics.text

        victim_url, victim = list(pids.items())[1]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not any("not restarted" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert any(line.startswith(f"web:{port + 1} pid {victim} exited with -9; not restarted") for line in lines)
        time.sleep(1)
        try:
            requests.get(f"{victim_url}/healthz", timeout=2)
            raise AssertionError("the killed web process was brought back")
        except requests.ConnectionError:
            pass

        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 1  # a web process died under it: not a clean run
        survivor = next(iter(pids.values()))
        assert not Path(f"/proc/{survivor}").exists()  # stopped and reaped by the launcher
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait(timeout=10)
        for pid in pids.values():  # nothing left behind, whatever happened
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reader.join(timeout=10)
        launcher.stdout.close()
    assert any(line.startswith("stopping all processes") for line in lines)
