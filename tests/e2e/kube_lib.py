"""Helpers for Python end-to-end tests: a real `skiff apiserver` on a free
loopback port in a temporary data directory, stopped (by PID) and removed when
the test ends, however it ends."""
import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIFF = os.environ.get("SKIFF", os.path.join(ROOT, "build", "skiff"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir, port):
        self.data_dir, self.port = data_dir, port
        self.kubeconfig = os.path.join(data_dir, "kubeconfig")
        self.url = f"https://127.0.0.1:{port}"
        self.proc = None
        self.log = open(os.path.join(os.path.dirname(data_dir), f"server-{port}.log"), "ab")

    def start(self, timeout=10.0):
        self.proc = subprocess.Popen(
            [SKIFF, "apiserver", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}"],
            stdout=self.log, stderr=self.log)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"apiserver exited with {self.proc.returncode}")
            with contextlib.suppress(Exception):
                with urllib.request.urlopen(self.url + "/healthz", context=ctx, timeout=1) as r:
                    if r.status == 200:
                        return
            time.sleep(0.05)
        raise RuntimeError("apiserver did not become ready")

    def kill(self, sig=9):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def token(self):
        import yaml  # python3-yaml comes with python3-kubernetes
        with open(self.kubeconfig) as f:
            return yaml.safe_load(f)["users"][0]["user"]["token"]

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.data_dir, "pki", "ca.crt"))
        return ctx


@contextlib.contextmanager
def apiserver():
    tmp = tempfile.mkdtemp(prefix="skiff-e2e-")
    server = Server(os.path.join(tmp, "data"), free_port())
    try:
        server.start()
        yield server
    finally:
        server.kill(15)
        server.log.close()
        shutil.rmtree(tmp, ignore_errors=True)


class Checks:
    """Counts checks and prints the closing 'N passed, N failed' line."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"ok - {name}")
        else:
            self.failed += 1
            print(f"FAIL - {name} {detail}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        raise SystemExit(1 if self.failed else 0)
