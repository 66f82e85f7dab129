/* echo_worker in C: an exec worker that takes channel `in` (read) and `out`
 * (write) and sends back every message unchanged until end of stream, then
 * exits 0. On a framing or channel error it prints the error on stderr and
 * exits non-zero. Exactly the contract of examples/cpp/echo_worker.cc.
 */
#include <stdint.h>
#include <stdio.h>

#include "tubo.h"

static int fail(tubo_error *err) {
  fprintf(stderr, "echo_worker: %s\n", tubo_error_message(err));
  tubo_error_free(err);
  return 1;
}

int main(void) {
  tubo_end *in = NULL, *out = NULL;
  tubo_error *err = NULL;
  tubo_bytes *m = NULL;
  int rc;
  if (tubo_channel_take_read_end(&in, "in", &err) != TUBO_OK) return fail(err);
  if (tubo_channel_take_write_end(&out, "out", &err) != TUBO_OK) return fail(err);
  tubo_end_set_max_message_size(in, UINT64_MAX, NULL);
  while ((rc = tubo_end_recv(&m, in, &err)) == TUBO_OK) {
    rc = tubo_end_send(out, m->data, m->len, &err);
    tubo_bytes_free(m);
    if (rc != TUBO_OK) return fail(err);
  }
  if (rc != TUBO_EOF) return fail(err);
  tubo_end_free(in);
  if (tubo_end_close(out, &err) != TUBO_OK) return fail(err);
  tubo_end_free(out);
  return 0;
}
