/* The fork start method in C, built against an installed tubo with a plain
 * Makefile and pkg-config (module tubo). A child squares the numbers it reads
 * from one pipe and sends them back on another until end of stream; the
 * parent sends 1..5, closes its write end (the child sees end of stream),
 * prints the squares until end of stream and the child's exit status. Exits 1
 * on any error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tubo.h"

static int square(void *ctx, tubo_end **ends, size_t n_ends) {
  char text[32];
  size_t len;
  (void)ctx;
  (void)n_ends;
  for (;;) {
    int rc = tubo_end_recv_into(&len, ends[0], text, sizeof text - 1, NULL);
    if (rc == TUBO_EOF) return 0; /* the parent closed its write end */
    if (rc != TUBO_OK) return 1;
    text[len] = '\0';
    {
      long value = strtol(text, NULL, 10);
      snprintf(text, sizeof text, "%ld", value * value);
    }
    if (tubo_end_send(ends[1], text, strlen(text), NULL) != TUBO_OK) return 1;
  }
}

static int fail(const char *what, tubo_error *err) {
  fprintf(stderr, "fork_squares: %s: %s\n", what, err ? tubo_error_message(err) : "failed");
  tubo_error_free(err);
  return 1;
}

int main(void) {
  tubo_end *numbers_r, *numbers_w, *squares_r, *squares_w;
  tubo_end *ends[2];
  tubo_process *child = NULL;
  tubo_bytes *message = NULL;
  tubo_error *err = NULL;
  char text[16];
  int i, rc, code = -1;

  if (tubo_pipe_new(&numbers_r, &numbers_w, &err) != TUBO_OK) return fail("pipe", err);
  if (tubo_pipe_new(&squares_r, &squares_w, &err) != TUBO_OK) return fail("pipe", err);
  /* The child gets the read end of one pipe and the write end of the other;
   * both are closed here when tubo_fork returns. */
  ends[0] = numbers_r;
  ends[1] = squares_w;
  if (tubo_fork(&child, square, NULL, ends, 2, 0, &err) != TUBO_OK) return fail("fork", err);

  for (i = 1; i <= 5; ++i) {
    snprintf(text, sizeof text, "%d", i);
    if (tubo_end_send(numbers_w, text, strlen(text), &err) != TUBO_OK) return fail("send", err);
  }
  if (tubo_end_close(numbers_w, &err) != TUBO_OK) return fail("close", err);
  tubo_end_free(numbers_w);

  printf("fork_squares:");
  while ((rc = tubo_end_recv(&message, squares_r, &err)) == TUBO_OK) {
    printf(" %.*s", (int)message->len, (const char *)message->data);
    tubo_bytes_free(message);
  }
  if (rc != TUBO_EOF) return fail("recv", err);
  tubo_end_free(squares_r);
  if (tubo_process_wait(&code, child, &err) != TUBO_OK) return fail("wait", err);
  tubo_process_free(child);
  printf("\nfork_squares: end of stream, child exited with %d\n", code);
  return code == 0 ? 0 : 1;
}
