/* Seed program 3 in C: a pipeline of two processes and the parent.
 *
 * create_items sends 0..9 into pipe 1; multiply_items reads pipe 1 until end
 * of stream and sends each item squared into pipe 2; the parent prints what
 * arrives on pipe 2 until end of stream. tubo_fork consumes the ends it
 * passes, so the parent holds no copy of a write end to forget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tubo.h"

static int create_items(void *ctx, tubo_end **ends, size_t n_ends) {
  char text[16];
  int item;
  (void)ctx;
  (void)n_ends;
  for (item = 0; item < 10; ++item) {
    snprintf(text, sizeof text, "%d", item);
    if (tubo_end_send(ends[0], text, strlen(text), NULL) != TUBO_OK) return 1;
  }
  return tubo_end_close(ends[0], NULL) == TUBO_OK ? 0 : 1;
}

static int multiply_items(void *ctx, tubo_end **ends, size_t n_ends) {
  char text[32];
  size_t len;
  tubo_error *err = NULL;
  (void)ctx;
  (void)n_ends;
  for (;;) {
    int rc = tubo_end_recv_into(&len, ends[0], text, sizeof text - 1, &err);
    if (rc == TUBO_EOF) break; /* create_items is done */
    if (rc != TUBO_OK) {
      fprintf(stderr, "multiply_items: %s\n", tubo_error_message(err));
      tubo_error_free(err);
      return 1;
    }
    text[len] = '\0';
    {
      long value = strtol(text, NULL, 10);
      snprintf(text, sizeof text, "%ld", value * value);
    }
    if (tubo_end_send(ends[1], text, strlen(text), NULL) != TUBO_OK) return 1;
  }
  return tubo_end_close(ends[1], NULL) == TUBO_OK ? 0 : 1;
}

static int fail(tubo_error *err) {
  fprintf(stderr, "pipeline: %s\n", tubo_error_message(err));
  tubo_error_free(err);
  return 1;
}

int main(void) {
  tubo_end *r1, *w1, *r2, *w2;
  tubo_end *ends[2];
  tubo_process *creator = NULL, *multiplier = NULL;
  tubo_error *err = NULL;
  tubo_bytes *item = NULL;
  int rc, s1 = -1, s2 = -1;

  if (tubo_pipe_new(&r1, &w1, &err) != TUBO_OK) return fail(err);
  if (tubo_pipe_new(&r2, &w2, &err) != TUBO_OK) return fail(err);

  ends[0] = w1;
  if (tubo_fork(&creator, create_items, NULL, ends, 1, 0, &err) != TUBO_OK) return fail(err);
  ends[0] = r1;
  ends[1] = w2;
  if (tubo_fork(&multiplier, multiply_items, NULL, ends, 2, 0, &err) != TUBO_OK) {
    return fail(err);
  }

  while ((rc = tubo_end_recv(&item, r2, &err)) == TUBO_OK) {
    printf("%.*s\n", (int)item->len, (const char *)item->data);
    tubo_bytes_free(item);
  }
  if (rc != TUBO_EOF) return fail(err);
  printf("End of communication\n");
  tubo_end_free(r2);
  tubo_process_wait(&s1, creator, NULL);
  tubo_process_wait(&s2, multiplier, NULL);
  tubo_process_free(creator);
  tubo_process_free(multiplier);
  return s1 == 0 && s2 == 0 ? 0 : 1;
}
