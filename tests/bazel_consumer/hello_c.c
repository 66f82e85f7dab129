/* The C program of tools/check_bazel_consumer, built in a scratch workspace
 * that depends on @tubo//capi as README.md says. A forked child sends one
 * message through a pipe; the parent prints it, then end of stream and the
 * child's exit code:
 *
 *   hello from a forked child
 *   end of stream
 *   child exit code 0
 */
#include <stdio.h>
#include <string.h>

#include "tubo.h"

static int send_hello(void *ctx, tubo_end **ends, size_t n_ends) {
  const char *text = "hello from a forked child";
  (void)ctx;
  (void)n_ends;
  return tubo_end_send(ends[0], text, strlen(text), NULL) == TUBO_OK ? 0 : 1;
}

static int fail(tubo_error *err) {
  fprintf(stderr, "hello_c: %s\n", tubo_error_message(err));
  tubo_error_free(err);
  return 1;
}

int main(void) {
  tubo_end *reader = NULL, *writer = NULL;
  tubo_process *child = NULL;
  tubo_bytes *message = NULL;
  tubo_error *err = NULL;
  int rc, code = -1;

  if (tubo_pipe_new(&reader, &writer, &err) != TUBO_OK) return fail(err);
  /* tubo_fork consumes the write end: the parent keeps no copy of it. */
  if (tubo_fork(&child, send_hello, NULL, &writer, 1, 0, &err) != TUBO_OK) return fail(err);
  while ((rc = tubo_end_recv(&message, reader, &err)) == TUBO_OK) {
    printf("%.*s\n", (int)message->len, (const char *)message->data);
    tubo_bytes_free(message);
  }
  if (rc != TUBO_EOF) return fail(err);
  printf("end of stream\n");
  if (tubo_process_wait(&code, child, &err) != TUBO_OK) return fail(err);
  printf("child exit code %d\n", code);
  tubo_process_free(child);
  tubo_end_free(reader);
  return code == 0 ? 0 : 1;
}
