"""A contract-4 pool worker with nothing but Python's standard library: echoes
each task upper-cased, fails a task that starts with "fail " with the rest as
its message."""
import os, struct
from multiprocessing.connection import Connection

chans = {n: int(fd) for n, fd, _ in (c.split(":") for c in os.environ["TUBO_CHANNELS"].split(","))}
tasks = Connection(chans["tasks"], writable=False)
results = Connection(chans["results"], readable=False)
results.send_bytes(struct.pack(">QB", 0, 2))  # ready
while True:
    try:
        frame = tasks.recv_bytes()
    except EOFError:
        break
    (task_id,), body = struct.unpack(">Q", frame[:8]), frame[8:]
    if body.startswith(b"fail "):
        results.send_bytes(struct.pack(">QB", task_id, 1) + body[5:])
    else:
        results.send_bytes(struct.pack(">QB", task_id, 0) + body.upper())
