"""Several processes, one result pipe: each writer gets its own end
(``Connection.dup``), the reader sees every message and then EOF once all have
exited; and a consumed Connection's error says who consumed it and what to do."""
import os
import re
import sys
import unittest

import tubo

MESSAGES_PER_WORKER = 200


def produce(out, worker):
    for i in range(MESSAGES_PER_WORKER):
        out.send((worker, i, os.getpid(), "x" * (i * 10)))  # up to ~2 kB: arrives whole


class FanOutTest(unittest.TestCase):
    def test_three_workers_one_result_pipe(self):
        reader, writer = tubo.Pipe(duplex=False)
        workers = [tubo.Process(target=produce, args=(writer.dup(), k)) for k in range(3)]
        writer.close()  # the parent keeps no write end: EOF comes when the workers are done
        for w in workers:
            w.start()
        got = []
        try:
            while True:
                got.append(reader.recv())
        except EOFError:
            pass
        for w in workers:
            w.join()
            self.assertEqual(w.exitcode, 0)
        reader.close()
        self.assertEqual(len(got), 3 * MESSAGES_PER_WORKER)
        for k, w in enumerate(workers):
            mine = [m for m in got if m[0] == k]
            self.assertEqual([m[1] for m in mine], list(range(MESSAGES_PER_WORKER)))  # in order
            self.assertEqual({m[2] for m in mine}, {w.pid})

    def test_eof_only_when_every_copy_is_closed(self):
        reader, writer = tubo.Pipe(duplex=False)
        copy = writer.dup()
        self.assertNotEqual(copy.fileno(), writer.fileno())
        writer.send_bytes(b"from the original")
        writer.close()
        self.assertEqual(reader.recv_bytes(), b"from the original")
        self.assertFalse(reader.poll(0.05))  # the copy still holds the pipe open
        copy.send_bytes(b"from the copy")
        copy.close()
        self.assertEqual(reader.recv_bytes(), b"from the copy")
        self.assertRaises(EOFError, reader.recv_bytes)
        reader.close()

    def test_dup_flushes_the_send_buffer_first(self):
        reader, writer = tubo.Pipe(duplex=False)
        writer.send_buffer_size = 4096
        writer.send_bytes(b"first")
        copy = writer.dup()
        copy.send_bytes(b"second")
        self.assertEqual(reader.recv_bytes(), b"first")
        self.assertEqual(reader.recv_bytes(), b"second")
        for c in (reader, writer, copy):
            c.close()

    def test_readable_ends_are_not_duplicated(self):
        reader, writer = tubo.Pipe(duplex=False)
        a, b = tubo.Pipe()
        self.assertRaisesRegex(tubo.InvalidArgumentError, "read-only", reader.dup)
        self.assertRaisesRegex(tubo.InvalidArgumentError, "duplex", a.dup)
        writer.close()
        self.assertRaises(tubo.ClosedError, writer.dup)
        for c in (reader, a, b):
            c.close()


class ConsumedErrorTest(unittest.TestCase):
    def test_the_second_start_says_who_consumed_it(self):
        reader, writer = tubo.Pipe(duplex=False)
        first = tubo.Process(target=produce, args=(writer, 0))
        second = tubo.Process(target=produce, args=(writer, 1))
        first.start()
        with self.assertRaises(tubo.ClosedError) as caught:
            second.start()
        message = str(caught.exception)
        self.assertIn("consumed by Process(name=%r).start() of pid %d" % (first.name, first.pid),
                      message)
        self.assertIn("conn.dup()", message)
        self.assertRaisesRegex(tubo.ClosedError, re.escape(first.name), writer.send, 1)
        got = 0
        try:
            while True:
                reader.recv()
                got += 1
        except EOFError:
            pass
        first.join()
        self.assertEqual((got, first.exitcode), (MESSAGES_PER_WORKER, 0))
        reader.close()

    def test_a_command_channel_names_the_command(self):
        reader, writer = tubo.Pipe(duplex=False)
        p = tubo.Command(sys.executable, "-c", "pass").channel("out", writer).spawn()
        self.assertRaisesRegex(tubo.ClosedError, r"Command\('.*'\)\.channel\('out'\)",
                               writer.send_bytes, b"x")
        p.join()
        reader.close()

    def test_a_failed_start_says_so(self):
        reader, writer = tubo.Pipe(duplex=False)
        p = tubo.Process(target=lambda: None, args=(writer,))  # a lambda does not pickle
        self.assertRaises(Exception, p.start)
        self.assertRaisesRegex(tubo.ClosedError, r"start\(\), which failed", writer.send_bytes,
                               b"x")
        self.assertRaises(EOFError, reader.recv_bytes)
        reader.close()

    def test_a_plain_close_keeps_the_plain_message(self):
        _, writer = tubo.Pipe(duplex=False)
        writer.close()
        self.assertRaisesRegex(tubo.ClosedError, "^handle is closed$", writer.send_bytes, b"x")


if __name__ == "__main__":
    unittest.main()
