/* The chaos run of the worker pool through the C ABI, in C: N tiny tasks
 * (TUBO_CHAOS_TASKS, default 10 000, times TUBO_STRESS_SCALE), 1 % SIGKILL
 * their worker and 1 % fail, on 2 C workers served by tubo_pool_serve (the
 * self start method). Every other result is right, exactly the killers fail
 * with TUBO_E_WORKER_DIED and the failers with their message, no task waits
 * longer than two minutes (a hang), every task ran exactly once (the workers
 * append to an O_APPEND log), and no descriptor or child is left. Prints one
 * "STRESS pool chaos [c]: ..." line with its figures; exits 1 on a failed
 * check, naming it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tubo.h"

enum { kWorkers = 2, kWindow = 64, kDefaultTasks = 10000 };
static const int64_t kHangMs = 120000;

static int failures = 0;

#define CHECK(cond, ...)                                 \
  do {                                                   \
    if (!(cond)) {                                       \
      fprintf(stderr, "FAILED %s: ", #cond);             \
      fprintf(stderr, __VA_ARGS__);                      \
      fprintf(stderr, " (%s:%d)\n", __FILE__, __LINE__); \
      ++failures;                                        \
    }                                                    \
  } while (0)

/* Which task is a killer (1 %) or a failer (1 %): a fixed scatter. */
static int kind(int i) { return (int)(((long)i * 7919) % 100); }
static int is_killer(int i) { return kind(i) == 0; }
static int is_failer(int i) { return kind(i) == 1; }

/* ---- the worker ---------------------------------------------------------- */

/* The execution log (CHAOS_LOG), opened O_APPEND: one write per line. */
static int log_fd = -1;

static void log_line(const char *line, size_t len) {
  if (log_fd >= 0 && write(log_fd, line, len) != (ssize_t)len) {
    perror("chaos worker: write to the log");
  }
}

/* "echo I" returns I, "fail I" fails with "failer I", "kill I" SIGKILLs
 * the worker; each task logs "<task>\n" before it runs. */
static int chaos_task(void *arg, const void *task, size_t len, tubo_bytes **result,
                      char **message) {
  char line[64];
  (void)arg;
  if (len + 1 >= sizeof line) return 1;
  memcpy(line, task, len);
  line[len] = '\n';
  log_line(line, len + 1);
  line[len] = '\0';
  if (strncmp(line, "kill ", 5) == 0) {
    kill(getpid(), SIGKILL);
    pause();
  }
  if (strncmp(line, "fail ", 5) == 0) {
    *message = malloc(len + 16);
    if (*message != NULL) snprintf(*message, len + 16, "failer %s", line + 5);
    return 1;
  }
  if (strncmp(line, "echo ", 5) == 0) {
    return tubo_bytes_new(result, line + 5, len - 5, NULL) == TUBO_OK ? 0 : 1;
  }
  *message = strdup("unknown task");
  return 1;
}

/* The self entry: logs "start <pid>", then serves tasks. */
static int chaos_worker(int argc, char **argv) {
  const char *path = getenv("CHAOS_LOG");
  (void)argc;
  (void)argv;
  if (path != NULL) {
    char line[32];
    int n;
    log_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (log_fd < 0) {
      perror(path);
      return 1;
    }
    n = snprintf(line, sizeof line, "start %d\n", (int)getpid());
    log_line(line, (size_t)n);
  }
  return tubo_pool_serve(chaos_task, NULL);
}

/* ---- the parent ---------------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The task count: TUBO_CHAOS_TASKS (default kDefaultTasks) times
 * TUBO_STRESS_SCALE (default 1), at least 1; exits 2 naming a bad value. */
static int task_count(void) {
  const char *tasks = getenv("TUBO_CHAOS_TASKS");
  const char *scale = getenv("TUBO_STRESS_SCALE");
  long n = kDefaultTasks;
  double s = 1.0;
  char *end = NULL;
  if (tasks != NULL) {
    errno = 0;
    n = strtol(tasks, &end, 10);
    if (errno != 0 || *end != '\0' || end == tasks || n < 1 || n > INT_MAX / 100) {
      fprintf(stderr, "TUBO_CHAOS_TASKS=\"%s\": want a positive whole number of tasks\n", tasks);
      exit(2);
    }
  }
  if (scale != NULL) {
    s = strtod(scale, &end);
    if (*end != '\0' || end == scale || !(s > 0)) {
      fprintf(stderr, "TUBO_STRESS_SCALE=\"%s\": want a positive number\n", scale);
      exit(2);
    }
  }
  n = (long)((double)n * s);
  return n < 1 ? 1 : (int)n;
}

static int open_fd_count(void) {
  int count = 0;
  struct dirent *e;
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) return -1;
  while ((e = readdir(dir)) != NULL) count += e->d_name[0] != '.';
  closedir(dir);
  return count - 1; /* the directory's own descriptor */
}

/* The children of this process (every thread's /proc/self/task/N/children). */
static int child_count(void) {
  int count = 0;
  struct dirent *e;
  DIR *dir = opendir("/proc/self/task");
  if (dir == NULL) return -1;
  while ((e = readdir(dir)) != NULL) {
    char path[300];
    FILE *f;
    int pid;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    f = fopen(path, "re");
    if (f == NULL) continue;
    while (fscanf(f, "%d", &pid) == 1) ++count;
    fclose(f);
  }
  closedir(dir);
  return count;
}

static tubo_pool *new_pool(const char *log) {
  tubo_worker_start *start = NULL;
  tubo_pool_options *options = NULL;
  tubo_pool *pool = NULL;
  tubo_error *err = NULL;
  if (tubo_worker_start_new_self(&start, "chaos_worker", &err) != TUBO_OK ||
      (log != NULL && tubo_worker_start_env_set(start, "CHAOS_LOG", log, &err) != TUBO_OK) ||
      tubo_pool_options_new(&options, &err) != TUBO_OK ||
      tubo_pool_options_set(options, TUBO_POOL_WORKERS, kWorkers, &err) != TUBO_OK ||
      tubo_pool_options_set(options, TUBO_POOL_MAX_IN_FLIGHT, kWindow, &err) != TUBO_OK ||
      tubo_pool_new(&pool, start, options, &err) != TUBO_OK) {
    fprintf(stderr, "FAILED to start a pool: %s\n", tubo_error_message(err));
    exit(1);
  }
  tubo_pool_options_free(options);
  tubo_worker_start_free(start);
  return pool;
}

struct outcomes {
  int right, died, failed, wrong, hangs;
};

/* Waits for task `i` (at most kHangMs), checks its outcome, frees it. */
static void collect(tubo_task *task, int i, struct outcomes *o) {
  tubo_bytes *b = NULL;
  tubo_error *err = NULL;
  char want[32];
  int rc;
  if (!tubo_task_wait(task, kHangMs)) {
    ++o->hangs;
    fprintf(stderr, "FAILED task %d not done after %lld ms: a hang\n", i, (long long)kHangMs);
    exit(1);
  }
  rc = tubo_task_result(&b, task, &err);
  if (is_killer(i)) {
    snprintf(want, sizeof want, "task %llu", (unsigned long long)tubo_task_id(task));
    if (rc == TUBO_E_WORKER_DIED && strstr(tubo_error_message(err), want) != NULL) {
      ++o->died;
    } else {
      ++o->wrong;
      fprintf(stderr, "killer %d: %s %s\n", i, tubo_code_name(rc), tubo_error_message(err));
    }
  } else if (is_failer(i)) {
    snprintf(want, sizeof want, "failer %d", i);
    if (rc == TUBO_E_TASK_FAILED && strcmp(tubo_error_message(err), want) == 0) {
      ++o->failed;
    } else {
      ++o->wrong;
      fprintf(stderr, "failer %d: %s %s\n", i, tubo_code_name(rc), tubo_error_message(err));
    }
  } else {
    snprintf(want, sizeof want, "%d", i);
    if (rc == TUBO_OK && b->len == strlen(want) && memcmp(b->data, want, b->len) == 0) {
      ++o->right;
    } else {
      ++o->wrong;
      fprintf(stderr, "task %d: %s %s\n", i, tubo_code_name(rc), tubo_error_message(err));
    }
  }
  tubo_bytes_free(b);
  tubo_error_free(err);
  tubo_task_free(task);
}

int main(int argc, char **argv) {
  const int n = task_count();
  const char *dir = getenv("TEST_TMPDIR");
  char log[4096];
  tubo_task *window[kWindow];
  int window_index[kWindow];
  int head = 0, queued = 0, killers = 0, failers = 0, duplicates = 0, missing = 0, started = 0;
  int fds, children, leaked_fds, leaked_children, i, fd;
  int *runs;
  struct outcomes o = {0, 0, 0, 0, 0};
  double begin, took;
  tubo_pool *pool;
  FILE *f;
  char line[64];

  tubo_entry_register("chaos_worker", chaos_worker, NULL);
  tubo_run_entry_if_requested(argc, argv);

  snprintf(log, sizeof log, "%s/pool_chaos_c.log", dir != NULL ? dir : "/tmp");
  fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror(log);
    return 1;
  }
  close(fd);
  /* A first pool, so what the library opens once for good is not counted. */
  pool = new_pool(NULL);
  tubo_pool_free(pool);
  fds = open_fd_count();
  children = child_count();

  pool = new_pool(log);
  begin = now_s();
  for (i = 0; i < n; ++i) {
    char task[32];
    tubo_task *t = NULL;
    tubo_error *err = NULL;
    int len;
    if (queued == kWindow) {
      collect(window[head], window_index[head], &o);
      head = (head + 1) % kWindow;
      --queued;
    }
    len = snprintf(task, sizeof task, "%s %d",
                   is_killer(i)   ? "kill"
                   : is_failer(i) ? "fail"
                                  : "echo",
                   i);
    killers += is_killer(i);
    failers += is_failer(i);
    if (tubo_pool_submit(&t, pool, task, (size_t)len, -1, &err) != TUBO_OK) {
      fprintf(stderr, "FAILED to submit task %d: %s\n", i, tubo_error_message(err));
      return 1;
    }
    window[(head + queued) % kWindow] = t;
    window_index[(head + queued) % kWindow] = i;
    ++queued;
  }
  for (; queued > 0; --queued, head = (head + 1) % kWindow) {
    collect(window[head], window_index[head], &o);
  }
  took = now_s() - begin;
  CHECK(tubo_pool_close(pool, NULL) == TUBO_OK, "tubo_pool_close");
  tubo_pool_free(pool);

  /* Every task ran exactly once; each worker logged its start. */
  runs = calloc((size_t)n, sizeof *runs);
  f = fopen(log, "re");
  if (runs == NULL || f == NULL) {
    perror(log);
    return 1;
  }
  while (fgets(line, sizeof line, f) != NULL) {
    char op[16];
    int arg;
    if (sscanf(line, "%15s %d", op, &arg) != 2) {
      CHECK(0, "a log line that is not \"<op> <number>\": %s", line);
    } else if (strcmp(op, "start") == 0) {
      ++started;
    } else if (arg >= 0 && arg < n) {
      ++runs[arg];
    } else {
      CHECK(0, "a log line naming no task: %s", line);
    }
  }
  fclose(f);
  for (i = 0; i < n; ++i) {
    duplicates += runs[i] > 1;
    missing += runs[i] == 0;
  }
  free(runs);

  leaked_fds = open_fd_count() - fds;
  leaked_children = child_count() - children;
  printf(
      "STRESS pool chaos [c]: %d tasks (%d killers, %d raisers) on %d workers in %.2f s: "
      "%.0f tasks/s, %d workers started, %d duplicates, %d leaked fds, %d leaked children\n",
      n, killers, failers, kWorkers, took, n / took, started, duplicates, leaked_fds,
      leaked_children);
  fflush(stdout);

  CHECK(o.died == killers, "%d of %d killers failed with TUBO_E_WORKER_DIED", o.died, killers);
  CHECK(o.failed == failers, "%d of %d failers failed with their message", o.failed, failers);
  CHECK(o.right == n - killers - failers, "%d of %d results right", o.right, n - killers - failers);
  CHECK(o.wrong == 0, "%d wrong outcomes", o.wrong);
  CHECK(o.hangs == 0, "%d hangs", o.hangs);
  CHECK(duplicates == 0, "%d tasks ran more than once", duplicates);
  CHECK(missing == 0, "%d tasks never ran", missing);
  CHECK(started >= kWorkers + killers, "%d workers started, want at least %d", started,
        kWorkers + killers);
  CHECK(leaked_fds == 0, "%d descriptors more than before the pool", leaked_fds);
  CHECK(leaked_children == 0, "%d children more than before the pool", leaked_children);
  CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "a child is left to wait for");
  if (failures != 0) fprintf(stderr, "%d checks failed\n", failures);
  return failures == 0 ? 0 : 1;
}
