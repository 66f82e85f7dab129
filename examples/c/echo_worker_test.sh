#!/usr/bin/env bash
# The C echo_worker keeps the C++ one's contract, driven by CPython's own
# multiprocessing.connection framing: channels in (fd 3, read) and out (fd 4,
# write), every message echoed until EOF, exit 0; a framing error is printed
# on stderr with a non-zero exit; a missing channel too.
set -euo pipefail
worker="$1"
python3 - "$worker" <<'PY'
import os, subprocess, sys
from multiprocessing.connection import Connection

def run(payloads, raw=None):
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    p = subprocess.Popen([sys.argv[1]], pass_fds=(in_r, out_w), stderr=subprocess.PIPE,
                         env=dict(os.environ, TUBO_CHANNELS=f"in:{in_r}:r,out:{out_w}:w"))
    os.close(in_r); os.close(out_w)
    w = Connection(in_w, readable=False)
    r = Connection(out_r, writable=False)
    for m in payloads:
        w.send_bytes(m)
    if raw is not None:
        os.write(in_w, raw)
    w.close()
    got = []
    try:
        while True:
            got.append(r.recv_bytes())
    except EOFError:
        pass
    r.close()
    err = p.stderr.read().decode()
    return p.wait(), got, err

msgs = [b"one", b"", b"x" * 100000]
code, got, err = run(msgs)
assert code == 0 and got == msgs, (code, got[:2], err)
code, got, err = run([b"ok"], raw=b"\x00\x00")
assert code != 0 and got == [b"ok"] and "truncated" in err, (code, got, err)
p = subprocess.run([sys.argv[1]], env={k: v for k, v in os.environ.items() if k != "TUBO_CHANNELS"},
                   stderr=subprocess.PIPE)
assert p.returncode != 0 and b"echo_worker:" in p.stderr, p
print("echo_worker keeps its contract")
PY
