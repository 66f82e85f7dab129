"""Seed program 3 in Python: a pipeline of two processes and the parent.

create_items sends 0..9 into pipe 1; multiply_items reads pipe 1 until EOF and
sends each item squared into pipe 2; the parent prints what arrives on pipe 2
until EOF. The original passes both ends of each pipe to every process and
must close the copies it does not use (`pipe_1[0].close()`, ...): forget one
and the reader waits forever. Here start() *consumes* the ends a process is
given, so each process gets exactly its ends and there is no copy to forget.
Messages are bytes: the items travel as text.
"""
from tubo import Pipe, Process


def create_items(output_pipe):
    for item in range(10):
        output_pipe.send_bytes(str(item).encode())
    output_pipe.close()


def multiply_items(input_pipe, output_pipe):
    try:
        while True:
            item = int(input_pipe.recv_bytes())
            output_pipe.send_bytes(str(item * item).encode())
    except EOFError:
        output_pipe.close()


if __name__ == '__main__':
    # Pipe(duplex=False) returns (reader, writer), as in multiprocessing.
    pipe_1 = Pipe(duplex=False)
    process_pipe_1 = Process(target=create_items, args=(pipe_1[1],))
    process_pipe_1.start()

    pipe_2 = Pipe(duplex=False)
    process_pipe_2 = Process(target=multiply_items, args=(pipe_1[0], pipe_2[1]))
    process_pipe_2.start()

    try:
        while True:
            print(int(pipe_2[0].recv_bytes()))
    except EOFError:
        print("End of communication")

    process_pipe_1.join()
    process_pipe_2.join()
    raise SystemExit(process_pipe_1.exitcode or process_pipe_2.exitcode)
