/* Seed program 1 in C: a process runs a function with an argument; the
 * parent joins it.
 *
 *   def greet(name): print('hello', name)
 *   p = Process(target=greet, args=('world',)); p.start(); p.join()
 */
#include <stdio.h>

#include "tubo.h"

static int greet(void *ctx, tubo_end **ends, size_t n_ends) {
  (void)ends;
  (void)n_ends;
  printf("hello %s\n", (const char *)ctx);
  return 0;
}

int main(void) {
  tubo_process *p = NULL;
  tubo_error *err = NULL;
  int code = -1;
  if (tubo_fork(&p, greet, "world", NULL, 0, 0, &err) != TUBO_OK) {
    fprintf(stderr, "%s\n", tubo_error_message(err));
    tubo_error_free(err);
    return 1;
  }
  if (tubo_process_wait(&code, p, &err) != TUBO_OK) {
    fprintf(stderr, "%s\n", tubo_error_message(err));
    tubo_error_free(err);
    code = 1;
  }
  tubo_process_free(p);
  return code == 0 ? 0 : 1;
}
