/* Cross-language matrix, parent "C": drives an echo worker through tubo's C ABI.
 *
 * CLI:  c_parent [--] <worker argv...>
 *   Spawns the worker (argv[0] looked up in PATH when it has no '/') with
 *   channels `in` (the worker reads) and `out` (the worker writes), by
 *   contract 2. Sends one message of each size 0, 1, 16383, 16384, 16385,
 *   65535, 65536, 65537 and 1 MiB, checking that each comes back unchanged;
 *   closes `in`; expects EOF on `out` and the worker to exit 0.
 *   Prints one summary line ("c_parent: OK ..." or "c_parent: FAIL ...");
 *   exits 0 on success, 1 on failure. Gives up after 120 s.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tubo.h"

static const size_t kSizes[] = {0, 1, 16383, 16384, 16385, 65535, 65536, 65537, 1 << 20};
#define N_SIZES (sizeof(kSizes) / sizeof(kSizes[0]))

static int fail(const char *why, tubo_error *err) {
  printf("c_parent: FAIL %s%s%s\n", why, err ? ": " : "", err ? tubo_error_message(err) : "");
  tubo_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  int first = 1, i, code = -1;
  size_t k;
  tubo_error *err = NULL;
  tubo_end *in_r = NULL, *in_w = NULL, *out_r = NULL, *out_w = NULL;
  tubo_command *command = NULL;
  tubo_process *worker = NULL;
  tubo_bytes *echo = NULL;
  char *sent;

  if (first < argc && strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    fprintf(stderr, "usage: c_parent [--] <worker argv...>\n");
    return 2;
  }
  alarm(120); /* a hang is a failure: SIGALRM ends the driver */
  if (tubo_pipe_new(&in_r, &in_w, &err) != TUBO_OK) return fail("pipe", err);
  if (tubo_pipe_new(&out_r, &out_w, &err) != TUBO_OK) return fail("pipe", err);
  if (tubo_command_new(&command, argv[first], &err) != TUBO_OK) return fail("command", err);
  tubo_command_search_path(command, 1, NULL);
  for (i = first + 1; i < argc; ++i) tubo_command_arg(command, argv[i], NULL);
  tubo_command_channel(command, "in", in_r, NULL);   /* consumed */
  tubo_command_channel(command, "out", out_w, NULL); /* consumed */
  if (tubo_command_spawn(&worker, command, &err) != TUBO_OK) return fail("spawn", err);
  tubo_command_free(command);

  sent = malloc(1 << 20);
  if (sent == NULL) return fail("out of memory", NULL);
  for (k = 0; k < N_SIZES; ++k) {
    size_t size = kSizes[k], j;
    for (j = 0; j < size; ++j) sent[j] = (char)((j * 7 + size) & 0xff);
    if (tubo_end_send(in_w, sent, size, &err) != TUBO_OK) return fail("send", err);
    if (tubo_end_recv(&echo, out_r, &err) != TUBO_OK) {
      return fail(err ? "recv" : "EOF instead of an echo", err);
    }
    if (echo->len != size || (size > 0 && memcmp(echo->data, sent, size) != 0)) {
      printf("c_parent: FAIL the echo of %zu bytes differs\n", size);
      return 1;
    }
    tubo_bytes_free(echo);
  }
  free(sent);
  tubo_end_free(in_w); /* the worker sees EOF next */
  if (tubo_end_recv(&echo, out_r, &err) != TUBO_EOF) {
    return fail(err ? "recv" : "a message after the last echo, expected EOF", err);
  }
  tubo_end_free(out_r);
  if (tubo_process_wait(&code, worker, &err) != TUBO_OK) return fail("wait", err);
  tubo_process_free(worker);
  if (code != 0) {
    printf("c_parent: FAIL worker exit code %d\n", code);
    return 1;
  }
  printf("c_parent: OK %zu messages of 0..%zu bytes echoed, EOF, exit 0\n", (size_t)N_SIZES,
         kSizes[N_SIZES - 1]);
  return 0;
}
