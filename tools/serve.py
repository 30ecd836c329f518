"""Starting `tandem serve` and waiting for its listening line: one way for the functional tests,
the benchmark runner and the crash script. Standard library only."""

import os
import re
import subprocess
import time

LISTENING_RE = re.compile(r"tandem listening on http://([0-9.]+):(\d+)")


class ServeFailed(Exception):
    """The server exited, or did not print its listening line in time (it is then killed)."""


def start_serve(argv, out_path, err_path, timeout, env=None, preexec_fn=None):
    """Runs `argv` (the binary and its arguments, `serve` among them, with `--listen host:0`),
    appending its output to out_path and err_path; returns (process, port) once it listens."""
    offset = os.path.getsize(out_path) if os.path.exists(out_path) else 0
    with open(out_path, "ab") as out, open(err_path, "ab") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                preexec_fn=preexec_fn)
    deadline = time.monotonic() + timeout
    while True:
        with open(out_path, "rb") as f:
            f.seek(offset)
            m = LISTENING_RE.search(f.read().decode("utf-8", "replace"))
        if m:
            return proc, int(m.group(2))
        if proc.poll() is not None:
            raise ServeFailed(f"tandem serve exited with {proc.returncode} before listening")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise ServeFailed(f"tandem serve did not print its listening line in {timeout} s")
        time.sleep(0.05)
