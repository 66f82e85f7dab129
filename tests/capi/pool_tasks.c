/* The C pool tests' task language (see pool_tasks.h). */
#define _POSIX_C_SOURCE 200809L
#include "pool_tasks.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int succeed(tubo_bytes **result, const char *data, size_t len) {
  return tubo_bytes_new(result, data, len, NULL) == TUBO_OK ? 0 : 1;
}

static int fail(char **message, const char *text, size_t len) {
  *message = malloc(len + 1);
  if (*message != NULL) {
    memcpy(*message, text, len);
    (*message)[len] = '\0';
  }
  return 1;
}

/* Appends the task and a newline to the file POOL_TEST_LOG names, if set
 * (one write, O_APPEND). */
static void log_task(const char *task, size_t len) {
  const char *path = getenv("POOL_TEST_LOG");
  char *line;
  int fd;
  if (path == NULL || (line = malloc(len + 1)) == NULL) return;
  memcpy(line, task, len);
  line[len] = '\n';
  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t written = write(fd, line, len + 1);
    (void)written;
    close(fd);
  }
  free(line);
}

/* What "alloc" tasks allocated: kept, so that the worker's RSS grows. */
static char *allocated[64];
static size_t allocated_count;

int pool_run_task(void *arg, const void *task, size_t len, tubo_bytes **result, char **message) {
  const char *t = task;
  const char *space = memchr(t, ' ', len);
  size_t op_len = space != NULL ? (size_t)(space - t) : len;
  const char *a = space != NULL ? space + 1 : t + len;
  size_t a_len = (size_t)(t + len - a);
  char buf[64];
  (void)arg;
  log_task(t, len);
  if (op_len == 4 && memcmp(t, "echo", 4) == 0) return succeed(result, a, a_len);
  if (op_len == 4 && memcmp(t, "fail", 4) == 0) return fail(message, a, a_len);
  if (op_len == 4 && memcmp(t, "kill", 4) == 0) {
    kill(getpid(), SIGKILL);
    pause();
  }
  if (op_len == 5 && memcmp(t, "sleep", 5) == 0 && a_len < sizeof buf) {
    long ms;
    struct timespec ts;
    memcpy(buf, a, a_len);
    buf[a_len] = '\0';
    ms = strtol(buf, NULL, 10);
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
    return succeed(result, "slept", 5);
  }
  if (op_len == 3 && memcmp(t, "pid", 3) == 0) {
    int n = snprintf(buf, sizeof buf, "%d", (int)getpid());
    return succeed(result, buf, (size_t)n);
  }
  if (op_len == 5 && memcmp(t, "alloc", 5) == 0 && a_len < sizeof buf &&
      allocated_count < sizeof allocated / sizeof allocated[0]) {
    size_t size;
    char *block;
    memcpy(buf, a, a_len);
    buf[a_len] = '\0';
    size = (size_t)strtol(buf, NULL, 10) << 20;
    block = malloc(size);
    if (block == NULL) return fail(message, "malloc", 6);
    memset(block, 1, size);
    allocated[allocated_count++] = block;
    return succeed(result, "ok", 2);
  }
  return fail(message, "unknown task", 12);
}

int pool_fork_worker(tubo_end *tasks, tubo_end *results, void *arg) {
  return tubo_pool_serve_ends(tasks, results, pool_run_task, arg);
}
