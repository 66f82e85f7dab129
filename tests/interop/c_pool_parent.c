/* Cross-language pool matrix, pool "C": drives a pool worker through the C
 * ABI's pool (tubo_pool_*).
 *
 * CLI:  c_pool_parent [--] <worker argv...>
 *   Starts a pool of 2 workers with the exec start method of the worker
 *   program, submits the matrix's 50 tasks (the task convention and the
 *   expected outcomes are in pool_matrix_test.py's file comment), checks every
 *   outcome in submission order, closes the pool and checks that this process
 *   has no child left. Prints one summary line ("c_pool_parent: OK ..." or
 *   "c_pool_parent: FAIL ..."); exits 0 on success, 1 on failure. Gives up
 *   after 30 s.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tubo.h"

#define N_TASKS 50
#define KILL_TASK 25
#define FAIL_TASK 33

static const size_t kSizes[] = {0, 1, 7, 100, 4096, 65535, 65536, 65537, 102400};
#define N_SIZES (sizeof(kSizes) / sizeof(kSizes[0]))

/* Task i's payload (what it asks the worker to echo) into buf; returns its size. */
static size_t payload(int i, char *buf) {
  size_t size = kSizes[(size_t)i % N_SIZES], j;
  for (j = 0; j < size; ++j) buf[j] = (char)((j * 31 + (size_t)i * 7) & 0xff);
  return size;
}

/* Task i's bytes into buf (room for "echo " and the largest payload); returns their size. */
static size_t task_bytes(int i, char *buf) {
  if (i == KILL_TASK) return (size_t)sprintf(buf, "kill %d", i);
  if (i == FAIL_TASK) return (size_t)sprintf(buf, "fail task %d fails on purpose", i);
  memcpy(buf, "echo ", 5);
  return 5 + payload(i, buf + 5);
}

/* Appends the children of this process (every thread's /proc/self/task/
 * children) to out (size cap); returns 0, or -1 if /proc cannot be read. */
static int children(char *out, size_t cap) {
  DIR *dir = opendir("/proc/self/task");
  struct dirent *e;
  out[0] = '\0';
  if (dir == NULL) return -1;
  while ((e = readdir(dir)) != NULL) {
    char path[300];
    FILE *f;
    size_t used = strlen(out);
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    f = fopen(path, "r");
    if (f == NULL) continue; /* the thread ended */
    if (used + 1 < cap && fgets(out + used, (int)(cap - used), f) == NULL) out[used] = '\0';
    fclose(f);
  }
  closedir(dir);
  return 0;
}

static int fail_task(int i, const tubo_task *task, const char *why, int rc, tubo_error *err) {
  printf("c_pool_parent: FAIL task %d (id %" PRIu64 "): %s, got %s%s%s\n", i, tubo_task_id(task),
         why, rc == TUBO_OK ? "a result" : tubo_code_name(rc), err ? ": " : "",
         err ? tubo_error_message(err) : "");
  tubo_error_free(err);
  return 1;
}

static int fail(const char *why, tubo_error *err) {
  printf("c_pool_parent: FAIL %s%s%s\n", why, err ? ": " : "", err ? tubo_error_message(err) : "");
  tubo_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  int first = 1, i;
  tubo_error *err = NULL;
  tubo_worker_start *start = NULL;
  tubo_pool_options *options = NULL;
  tubo_pool *pool = NULL;
  tubo_task *tasks[N_TASKS];
  char *buf, *want, left[4096];

  if (first < argc && strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    fprintf(stderr, "usage: c_pool_parent [--] <worker argv...>\n");
    return 2;
  }
  alarm(30); /* a hang is a failure: SIGALRM ends the driver */
  buf = malloc(5 + 102400);
  want = malloc(102400);
  if (buf == NULL || want == NULL) return fail("out of memory", NULL);
  if (tubo_worker_start_new_exec(&start, argv[first], &err) != TUBO_OK)
    return fail("tubo_worker_start_new_exec", err);
  for (i = first + 1; i < argc; ++i) {
    if (tubo_worker_start_arg(start, argv[i], &err) != TUBO_OK)
      return fail("tubo_worker_start_arg", err);
  }
  if (tubo_pool_options_new(&options, &err) != TUBO_OK) return fail("tubo_pool_options_new", err);
  if (tubo_pool_options_set(options, TUBO_POOL_WORKERS, 2, &err) != TUBO_OK)
    return fail("tubo_pool_options_set", err);
  if (tubo_pool_new(&pool, start, options, &err) != TUBO_OK) return fail("tubo_pool_new", err);
  tubo_worker_start_free(start);
  tubo_pool_options_free(options);

  for (i = 0; i < N_TASKS; ++i) {
    size_t len = task_bytes(i, buf);
    if (tubo_pool_submit(&tasks[i], pool, buf, len, -1, &err) != TUBO_OK)
      return fail("tubo_pool_submit", err);
  }
  for (i = 0; i < N_TASKS; ++i) {
    tubo_bytes *result = NULL;
    int rc = tubo_task_result(&result, tasks[i], &err);
    if (i == KILL_TASK) {
      char prefix[64];
      snprintf(prefix, sizeof prefix, "task %" PRIu64 ":", tubo_task_id(tasks[i]));
      if (rc != TUBO_E_WORKER_DIED || strncmp(tubo_error_message(err), prefix, strlen(prefix)) ||
          strstr(tubo_error_message(err), "died") == NULL)
        return fail_task(i, tasks[i], "want worker_died naming the task", rc, err);
      tubo_error_free(err);
      err = NULL;
    } else if (i == FAIL_TASK) {
      char message[64];
      snprintf(message, sizeof message, "task %d fails on purpose", i);
      if (rc != TUBO_E_TASK_FAILED || strstr(tubo_error_message(err), message) == NULL)
        return fail_task(i, tasks[i], "want task_failed with the worker's message", rc, err);
      tubo_error_free(err);
      err = NULL;
    } else {
      size_t len = payload(i, want);
      if (rc != TUBO_OK) return fail_task(i, tasks[i], "want its result", rc, err);
      if (result->len != len || (len > 0 && memcmp(result->data, want, len) != 0)) {
        printf("c_pool_parent: FAIL task %d (id %" PRIu64
               "): wrong result of %zu bytes (want %zu)\n",
               i, tubo_task_id(tasks[i]), result->len, len);
        return 1;
      }
      tubo_bytes_free(result);
    }
    tubo_task_free(tasks[i]);
  }
  if (tubo_pool_close(pool, &err) != TUBO_OK) return fail("tubo_pool_close", err);
  tubo_pool_free(pool);
  if (children(left, sizeof left) != 0) return fail("cannot read /proc/self/task", NULL);
  if (left[0] != '\0') {
    printf("c_pool_parent: FAIL children left after close: %s\n", left);
    return 1;
  }
  free(buf);
  free(want);
  printf(
      "c_pool_parent: OK %d tasks: %d results, task %d worker_died, task %d task_failed; "
      "closed, no child left\n",
      N_TASKS, N_TASKS - 2, KILL_TASK, FAIL_TASK);
  return 0;
}
