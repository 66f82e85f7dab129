/* Seed program 2 in C: `square` and `is_even` run as two processes over one
 * list; the parent joins both and prints "Done". The workers use the self
 * start method: this binary re-executed into a registered entry point.
 *
 *   p1 = Process(target=square, args=(numbers,))
 *   p2 = Process(target=is_even, args=(numbers,))
 *   p1.start(); p2.start(); p1.join(); p2.join(); print("Done")
 */
#include <stdio.h>
#include <stdlib.h>

#include "tubo.h"

static int square(int argc, char **argv) {
  int i;
  for (i = 1; i < argc; ++i) {
    int x = atoi(argv[i]);
    printf("%d squared is %d\n", x, x * x);
  }
  return 0;
}

static int is_even(int argc, char **argv) {
  int i;
  for (i = 1; i < argc; ++i) {
    int x = atoi(argv[i]);
    if (x % 2 == 0) printf("%d is an even number\n", x);
  }
  return 0;
}

static tubo_process *start(const char *entry, const char *const *numbers, size_t n) {
  tubo_command *c = NULL;
  tubo_process *p = NULL;
  tubo_error *err = NULL;
  size_t i;
  if (tubo_command_new_self(&c, entry, &err) == TUBO_OK) {
    for (i = 0; i < n && err == NULL; ++i) tubo_command_arg(c, numbers[i], &err);
    if (err == NULL) tubo_command_spawn(&p, c, &err);
  }
  if (err != NULL) fprintf(stderr, "%s\n", tubo_error_message(err));
  tubo_error_free(err);
  tubo_command_free(c);
  return p;
}

int main(int argc, char **argv) {
  static const char *const numbers[] = {"43", "50", "5", "98", "34", "35"};
  tubo_process *p1, *p2;
  int s1 = -1, s2 = -1;
  if (tubo_entry_register("square", square, NULL) != TUBO_OK ||
      tubo_entry_register("is_even", is_even, NULL) != TUBO_OK) {
    return 1;
  }
  tubo_run_entry_if_requested(argc, argv); /* never returns in a worker */
  p1 = start("square", numbers, 6);
  p2 = start("is_even", numbers, 6);
  if (p1 == NULL || p2 == NULL) {
    tubo_process_free(p1);
    tubo_process_free(p2);
    return 1;
  }
  tubo_process_wait(&s1, p1, NULL);
  tubo_process_wait(&s2, p2, NULL);
  printf("Done\n");
  tubo_process_free(p1);
  tubo_process_free(p2);
  return s1 == 0 && s2 == 0 ? 0 : 1;
}
