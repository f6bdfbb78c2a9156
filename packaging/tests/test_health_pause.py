#!/usr/bin/env python3
"""Checks `harbor-keyless health` (the DaemonSet's exec probe) against a real HTTP server on
loopback, and that `harbor-keyless pause` exits 0 on SIGTERM.

    python3 packaging/tests/test_health_pause.py

Needs a built harbor-keyless (HARBOR_KEYLESS_BIN, default .build/debug/harbor-keyless).
"""

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("HARBOR_KEYLESS_BIN", os.path.join(REPO, ".build", "debug", "harbor-keyless"))
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    print(("ok: " if condition else "FAIL: ") + name + ("" if condition or not detail else f": {detail}"))


class Handler(http.server.BaseHTTPRequestHandler):
    status = 200
    paths = []

    def do_GET(self):
        Handler.paths.append(self.path)
        self.send_response(Handler.status)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *arguments):
        pass


def health(*arguments):
    return subprocess.run([BINARY, "health", *arguments], capture_output=True, text=True, timeout=30)


def test_health():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    try:
        Handler.status = 200
        result = health("--address", address)
        check("health exits 0 on HTTP 200", result.returncode == 0, result.stderr.strip())
        check("health requests /healthz", Handler.paths[-1:] == ["/healthz"], str(Handler.paths))

        Handler.status = 503
        result = health("--address", address)
        check("health exits 1 on HTTP 503", result.returncode == 1, result.stderr.strip())
        check("health names the status", "503" in result.stderr)
    finally:
        server.shutdown()

    # A port with no listener: bind one, note it, close it.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = f"127.0.0.1:{probe.getsockname()[1]}"
    probe.close()
    result = health("--address", closed)
    check("health exits 1 when nothing listens", result.returncode == 1, result.stderr.strip())
    check("health says the connection failed", "connect to" in result.stderr, result.stderr.strip())

    # A server that accepts and never responds: the timeout must end the probe.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    started = time.monotonic()
    result = health("--address", f"127.0.0.1:{silent.getsockname()[1]}", "--timeout", "1")
    elapsed = time.monotonic() - started
    silent.close()
    check("health times out on a silent server", result.returncode == 1 and elapsed < 10, f"{elapsed:.1f}s {result.stderr.strip()}")

    result = health("--address", "localhost:9765")
    check("health rejects a host name as a usage error", result.returncode == 64 and "numeric" in result.stderr, result.stderr.strip())


def test_pause():
    process = subprocess.Popen([BINARY, "pause"])
    time.sleep(0.5)
    check("pause keeps running", process.poll() is None)
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        code = None
    check("pause exits 0 on SIGTERM", code == 0, str(code))


def main():
    test_health()
    test_pause()
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
