/*
 * raw_bench.c -- the raw-syscall baselines tubo is measured against: the same
 * work as bench/tubo_bench.cc, done with plain system calls in C.
 *
 * Adapted from the reference harness's pipe_limit.c (../shared/anchor-bench/c/):
 * same workload names, same method (throughput timed from "child ready" to
 * "child reported its count"; latencies as p50/p99 of single round trips).
 * Changes: frames use contract 1's big-endian length header (what tubo and
 * CPython send), the variants kept are those tubo's goals name, and a wait
 * section (epoll over N pipes) is added.
 *
 * Output: "c.<workload>.<metric> value unit" lines.
 *   tp.<S>           one writev (header + payload) per message; the reader
 *                    parses frames out of a 256 KiB buffer (payloads >= 8 KiB
 *                    straight into the message buffer)
 *   tp_batched.<S>   messages packed into a 64 KiB user buffer, one write when
 *                    full (a frame bigger than the buffer goes out with writev)
 *   tp_pipe1M.<S>    as tp, with the pipe enlarged to 1 MiB (F_SETPIPE_SZ)
 *   tp_sigmask.<S>   as tp, SIGPIPE blocked in the thread around each writev
 *                    (the raised signal consumed, the mask restored)
 *   tp_sock.<S>, tp_sock4M.<S>   as tp over an AF_UNIX stream socketpair
 *                    (sendmsg with MSG_NOSIGNAL), default buffers / 4 MiB
 *                    SO_SNDBUF and SO_RCVBUF
 *   pp_pipe_samecpu.<S>, pp_pipe_xcpu.<S>   ping-pong over two pipes, both
 *                    processes on CPU 0 / parent on CPU 0 and child on CPU 1
 *   spawn.fork_exit, spawn.posix_spawn_true, spawn.posix_spawn_ready (spawn
 *                    the small C program bench/ready.c, read its 1-byte
 *                    "ready", wait), each also with _rss256M: 256 MiB of
 *                    touched 4 KiB pages in the parent
 *   wait.N<n>        one epoll_wait (zero timeout) over n pipes, one of them
 *                    readable
 *   pool.8B.d<D>     the traffic of a pool with nothing else: 2 forked echo
 *                    workers, one pipe pair each, 8-byte framed tasks, at most
 *                    D tasks sent to a worker and not answered; the parent
 *                    waits with epoll, parses every result frame a read gave,
 *                    and refills each worker's freed slots with one write;
 *                    tasks/s
 *
 * Usage: raw_bench <tp|pp|spawn|wait|pool|all> [--scale F]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double g_scale = 1.0;
static char g_ready[4096]; /* path of the small C program (bench/ready) */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static long scaled(long n, long min) {
  long v = (long)(n * g_scale);
  return v < min ? min : v;
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t k = write(fd, c, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    c += k;
    n -= (size_t)k;
  }
  return 0;
}

static int writev_all(int fd, struct iovec *iov, int cnt) {
  while (cnt > 0) {
    ssize_t n = writev(fd, iov, cnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    while (cnt > 0 && (size_t)n >= iov->iov_len) {
      n -= (ssize_t)iov->iov_len;
      iov++;
      cnt--;
    }
    if (cnt > 0) {
      iov->iov_base = (char *)iov->iov_base + n;
      iov->iov_len -= (size_t)n;
    }
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  char *c = p;
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(fd, c + got, n - got);
    if (k < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (k == 0) return got == 0 ? 0 : -1;
    got += (size_t)k;
  }
  return 1;
}

/* ------------------------------------------------------- buffered reader */

#define RBUF_CAP (256 * 1024)
#define DIRECT_MIN (8 * 1024) /* reads this large bypass the buffer */

typedef struct {
  int fd;
  char *buf;
  size_t cap, pos, end;
} reader_t;

static void reader_init(reader_t *r, int fd) {
  memset(r, 0, sizeof *r);
  r->fd = fd;
  r->cap = RBUF_CAP;
  r->buf = malloc(r->cap);
  if (!r->buf) die("malloc");
}

/* 1 = got n bytes, 0 = clean EOF before any byte, -1 = error / truncated */
static int rd_exact(reader_t *r, void *dst, size_t n) {
  char *d = dst;
  size_t got = 0;
  while (got < n) {
    size_t avail = r->end - r->pos;
    if (avail) {
      size_t k = avail < n - got ? avail : n - got;
      memcpy(d + got, r->buf + r->pos, k);
      r->pos += k;
      got += k;
      continue;
    }
    size_t need = n - got;
    ssize_t k;
    if (need >= DIRECT_MIN) {
      k = read(r->fd, d + got, need);
      if (k > 0) {
        got += (size_t)k;
        continue;
      }
    } else {
      r->pos = r->end = 0;
      k = read(r->fd, r->buf, r->cap);
      if (k > 0) {
        r->end = (size_t)k;
        continue;
      }
    }
    if (k < 0 && errno == EINTR) continue;
    if (k == 0) return got == 0 ? 0 : -1;
    return -1;
  }
  return 1;
}

/* payload: bytes [0,8) = seq (LE u64), last byte = (u8)seq when S > 8 */
static void stamp(char *payload, size_t S, uint64_t seq) {
  if (S >= 8) memcpy(payload, &seq, 8);
  if (S > 8) payload[S - 1] = (char)(uint8_t)seq;
}

static int check(const char *payload, size_t S, uint64_t seq) {
  if (S >= 8) {
    uint64_t v;
    memcpy(&v, payload, 8);
    if (v != seq) return 0;
  }
  if (S > 8 && (uint8_t)payload[S - 1] != (uint8_t)seq) return 0;
  return 1;
}

static uint64_t sink_loop(reader_t *r, size_t S, int *ok) {
  char *dst = malloc(S ? S : 1);
  if (!dst) die("malloc");
  uint64_t count = 0;
  *ok = 1;
  for (;;) {
    uint32_t be;
    int rc = rd_exact(r, &be, 4);
    if (rc == 0) break;
    if (rc < 0 || ntohl(be) != S) {
      *ok = 0;
      break;
    }
    if (rd_exact(r, dst, S) != 1 || !check(dst, S, count)) {
      *ok = 0;
      break;
    }
    count++;
  }
  free(dst);
  return count;
}

static void fmt_size(size_t S, char *out, size_t n) {
  if (S >= (1u << 20) && S % (1u << 20) == 0)
    snprintf(out, n, "%zuMiB", S >> 20);
  else if (S >= 1024 && S % 1024 == 0)
    snprintf(out, n, "%zuKiB", S >> 10);
  else
    snprintf(out, n, "%zuB", S);
}

/* ------------------------------------------------------------ throughput */

enum { TP_PLAIN, TP_BATCHED, TP_PIPE1M, TP_SIGMASK, TP_SOCK, TP_SOCK4M };
static const char *tp_names[] = {"tp",         "tp_batched", "tp_pipe1M",
                                 "tp_sigmask", "tp_sock",    "tp_sock4M"};

/* One writev with SIGPIPE blocked in the thread around it, the raised signal
 * consumed, the mask restored: what a library must do for a pipe when it
 * cannot assume SIGPIPE is ignored. */
static int writev_masked(int fd, struct iovec *iov, int cnt) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  int rc = writev_all(fd, iov, cnt);
  if (rc && errno == EPIPE) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, NULL, &zero);
  }
  if (!sigismember(&old, SIGPIPE)) pthread_sigmask(SIG_UNBLOCK, &pipe_set, NULL);
  return rc;
}

/* A full send on a stream socket, refusing SIGPIPE per call. */
static int sendv_all(int fd, struct iovec *iov, int cnt) {
  while (cnt > 0) {
    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)cnt;
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    while (cnt > 0 && (size_t)n >= iov->iov_len) {
      n -= (ssize_t)iov->iov_len;
      iov++;
      cnt--;
    }
    if (cnt > 0) {
      iov->iov_base = (char *)iov->iov_base + n;
      iov->iov_len -= (size_t)n;
    }
  }
  return 0;
}

struct tp_result {
  uint64_t count;
  int32_t ok;
  int32_t pad;
};

static void throughput(size_t S, long N, int mode) {
  int data[2], st[2];
  const int sock = mode == TP_SOCK || mode == TP_SOCK4M;
  if (sock) {
    /* data[0] reads, data[1] writes, as for the pipe */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, data)) die("socketpair");
    if (mode == TP_SOCK4M) {
      int size = 4 << 20;
      if (setsockopt(data[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size) ||
          setsockopt(data[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof size))
        die("setsockopt");
    }
  } else if (pipe2(data, O_CLOEXEC)) {
    die("pipe");
  }
  if (pipe2(st, O_CLOEXEC)) die("pipe");
  if (mode == TP_PIPE1M && fcntl(data[1], F_SETPIPE_SZ, 1 << 20) < 0) die("F_SETPIPE_SZ");

  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(data[1]);
    close(st[0]);
    reader_t r;
    reader_init(&r, data[0]);
    if (write_all(st[1], "R", 1)) _exit(3);
    struct tp_result res = {0, 0, 0};
    int ok;
    res.count = sink_loop(&r, S, &ok);
    res.ok = ok;
    write_all(st[1], &res, sizeof res);
    _exit(ok ? 0 : 1);
  }
  close(data[0]);
  close(st[1]);

  char *payload = malloc(S);
  if (!payload) die("malloc");
  memset(payload, 0xab, S);
  char c;
  if (read_all(st[0], &c, 1) != 1) die("ready");

  uint64_t t0 = now_ns();
  uint32_t be = htonl((uint32_t)S);
  if (mode == TP_BATCHED) {
    size_t cap = 64 * 1024, fill = 0;
    char *wb = malloc(cap);
    for (long i = 0; i < N; i++) {
      stamp(payload, S, (uint64_t)i);
      if (fill + 4 + S > cap) {
        if (4 + S > cap) { /* too big to batch: what is held + frame in one writev */
          struct iovec iov[3] = {{wb, fill}, {&be, 4}, {payload, S}};
          if (writev_all(data[1], iov, 3)) die("writev");
          fill = 0;
          continue;
        }
        if (write_all(data[1], wb, fill)) die("write");
        fill = 0;
      }
      memcpy(wb + fill, &be, 4);
      memcpy(wb + fill + 4, payload, S);
      fill += 4 + S;
    }
    if (fill && write_all(data[1], wb, fill)) die("write");
    free(wb);
  } else {
    for (long i = 0; i < N; i++) {
      stamp(payload, S, (uint64_t)i);
      struct iovec iov[2] = {{&be, 4}, {payload, S}};
      int rc = sock                 ? sendv_all(data[1], iov, 2)
               : mode == TP_SIGMASK ? writev_masked(data[1], iov, 2)
                                    : writev_all(data[1], iov, 2);
      if (rc) die("writev");
    }
  }
  close(data[1]); /* EOF */
  struct tp_result res;
  if (read_all(st[0], &res, sizeof res) != 1) die("result");
  uint64_t t1 = now_ns();
  int status;
  waitpid(pid, &status, 0);
  close(st[0]);
  free(payload);

  char sz[32];
  fmt_size(S, sz, sizeof sz);
  if (!res.ok || res.count != (uint64_t)N || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "c.%s.%s VALIDATION FAILED count=%llu/%ld ok=%d\n", tp_names[mode], sz,
            (unsigned long long)res.count, N, res.ok);
    printf("c.%s.%s.msgs FAILED -\n", tp_names[mode], sz);
    fflush(stdout);
    return;
  }
  double secs = (double)(t1 - t0) / 1e9;
  printf("c.%s.%s.msgs %.0f msg/s\n", tp_names[mode], sz, N / secs);
  printf("c.%s.%s.MBps %.1f MB/s\n", tp_names[mode], sz, (double)N * S / secs / 1e6);
  fflush(stdout);
}

/* ------------------------------------------------------------- latencies */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void report_lat(const char *name, uint64_t *v, long n) {
  qsort(v, (size_t)n, sizeof *v, cmp_u64);
  double sum = 0;
  for (long i = 0; i < n; i++) sum += (double)v[i];
  long i99 = (long)(0.99 * (n - 1) + 0.5);
  printf("%s.p50 %.3f us\n", name, v[n / 2] / 1e3);
  printf("%s.p99 %.3f us\n", name, v[i99] / 1e3);
  printf("%s.mean %.3f us\n", name, sum / n / 1e3);
  printf("%s.n %ld runs\n", name, n);
  fflush(stdout);
}

/* ------------------------------------------------------------- ping-pong */

static int echo_loop(int in_fd, int out_fd) {
  reader_t r;
  reader_init(&r, in_fd);
  size_t cap = 1 << 16;
  char *buf = malloc(cap);
  for (;;) {
    uint32_t be;
    int rc = rd_exact(&r, &be, 4);
    if (rc == 0) return 0;
    if (rc < 0) return 1;
    uint32_t len = ntohl(be);
    if (len > cap) {
      cap = len;
      buf = realloc(buf, cap);
    }
    if (rd_exact(&r, buf, len) != 1) return 1;
    struct iovec iov[2] = {{&be, 4}, {buf, len}};
    if (writev_all(out_fd, iov, 2)) return 1;
  }
}

static void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) die("sched_setaffinity");
}

/* pin 1: both on CPU 0; pin 2: parent CPU 0, child CPU 1 */
static void pingpong(size_t S, long iters, long warm, int pin) {
  if (pin == 2 && sysconf(_SC_NPROCESSORS_ONLN) < 2) return;
  cpu_set_t saved;
  sched_getaffinity(0, sizeof saved, &saved);
  pin_to(0);
  int p2c[2], c2p[2];
  if (pipe2(p2c, O_CLOEXEC) || pipe2(c2p, O_CLOEXEC)) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (pin == 2) pin_to(1);
    close(p2c[1]);
    close(c2p[0]);
    _exit(echo_loop(p2c[0], c2p[1]));
  }
  close(p2c[0]);
  close(c2p[1]);
  reader_t r;
  reader_init(&r, c2p[0]);
  char *out = malloc(S), *in = malloc(S);
  memset(out, 0xcd, S);
  uint64_t *lat = malloc(sizeof(uint64_t) * (size_t)iters);
  uint32_t be = htonl((uint32_t)S);
  for (long i = 0; i < warm + iters; i++) {
    uint32_t rbe;
    stamp(out, S, (uint64_t)i);
    uint64_t t0 = now_ns();
    struct iovec iov[2] = {{&be, 4}, {out, S}};
    if (writev_all(p2c[1], iov, 2)) die("writev");
    if (rd_exact(&r, &rbe, 4) != 1 || ntohl(rbe) != S || rd_exact(&r, in, S) != 1) die("pp read");
    uint64_t t1 = now_ns();
    if (!check(in, S, (uint64_t)i)) {
      fprintf(stderr, "pp validation failed\n");
      exit(2);
    }
    if (i >= warm) lat[i - warm] = t1 - t0;
  }
  close(p2c[1]);
  int status;
  waitpid(pid, &status, 0);
  close(c2p[0]);
  sched_setaffinity(0, sizeof saved, &saved);
  char name[64], sz[32];
  fmt_size(S, sz, sizeof sz);
  snprintf(name, sizeof name, "c.pp_pipe%s.%s", pin == 1 ? "_samecpu" : "_xcpu", sz);
  report_lat(name, lat, iters);
  free(lat);
  free(out);
  free(in);
  free(r.buf);
}

/* ----------------------------------------------------------------- spawn */

enum { SP_FORK_EXIT, SP_POSIX_SPAWN, SP_SPAWN_READY };
static const char *sp_names[] = {"fork_exit", "posix_spawn_true", "posix_spawn_ready"};
static char *true_argv[] = {"/bin/true", NULL};

static int spawn_once(int how) {
  pid_t pid;
  int status;
  switch (how) {
    case SP_FORK_EXIT:
      pid = fork();
      if (pid == 0) _exit(0);
      break;
    case SP_POSIX_SPAWN:
      if (posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ)) return -1;
      break;
    case SP_SPAWN_READY: {
      int p[2];
      if (pipe2(p, O_CLOEXEC)) return -1;
      posix_spawn_file_actions_t fa;
      posix_spawn_file_actions_init(&fa);
      posix_spawn_file_actions_adddup2(&fa, p[1], 1);
      char *argv[] = {g_ready, NULL};
      int e = posix_spawn(&pid, g_ready, &fa, NULL, argv, environ);
      posix_spawn_file_actions_destroy(&fa);
      close(p[1]);
      if (e) {
        close(p[0]);
        return -1;
      }
      char c;
      int rc = read_all(p[0], &c, 1);
      close(p[0]);
      if (rc != 1 || c != '!') return -1;
      break;
    }
    default:
      return -1;
  }
  if (pid < 0) return -1;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void spawn_bench(int how, long runs, double cap_s, const char *suffix) {
  uint64_t *lat = malloc(sizeof(uint64_t) * (size_t)runs);
  for (int i = 0; i < 5; i++)
    if (spawn_once(how)) die("spawn warmup");
  uint64_t start = now_ns();
  long n = 0;
  for (; n < runs; n++) {
    uint64_t t0 = now_ns();
    if (spawn_once(how)) die(sp_names[how]);
    uint64_t t1 = now_ns();
    lat[n] = t1 - t0;
    if ((double)(t1 - start) / 1e9 > cap_s && n >= 20) {
      n++;
      break;
    }
  }
  char name[96];
  snprintf(name, sizeof name, "c.spawn.%s%s", sp_names[how], suffix);
  report_lat(name, lat, n);
  free(lat);
}

/* ------------------------------------------------------------------ wait */

static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static void wait_bench(int n, long iters) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  int(*fds)[2] = malloc(sizeof(int[2]) * (size_t)n);
  for (int i = 0; i < n; i++) {
    if (pipe2(fds[i], O_CLOEXEC)) die("pipe (raise the fd limit)");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i][0], &ev)) die("epoll_ctl");
  }
  const int ready = n / 2;
  uint32_t frame[2] = {htonl(4), 0x2a};
  if (write_all(fds[ready][1], frame, 8)) die("write");
  struct epoll_event *events = malloc(sizeof *events * (size_t)n);
  uint64_t *lat = malloc(sizeof(uint64_t) * (size_t)iters);
  for (long i = -1000; i < iters; i++) {
    uint64_t t0 = now_ns();
    int k = epoll_wait(ep, events, n, 0);
    uint64_t t1 = now_ns();
    if (k != 1 || events[0].data.u64 != (uint64_t)ready) {
      fprintf(stderr, "c.wait.N%d: %d ready, expected 1\n", n, k);
      exit(2);
    }
    if (i >= 0) lat[i] = t1 - t0;
  }
  char name[64];
  snprintf(name, sizeof name, "c.wait.N%d", n);
  report_lat(name, lat, iters);
  for (int i = 0; i < n; i++) {
    close(fds[i][0]);
    close(fds[i][1]);
  }
  close(ep);
  free(fds);
  free(events);
  free(lat);
}

/* ------------------------------------------------------------------ main */

/* ------------------------------------------------------------------ pool */

typedef struct {
  pid_t pid;
  int task_fd, result_fd;
  char buf[64 * 1024];
  size_t end;
  uint64_t next_expected; /* results come back in the order sent (FIFO) */
  uint64_t sent[1024];    /* seq numbers in flight, a ring */
  int head, count;
} raw_worker_t;

static void pool_bench(int workers, int depth, long n) {
  raw_worker_t *w = calloc((size_t)workers, sizeof *w);
  if (!w) die("calloc");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < workers; i++) {
    int t[2], r[2];
    if (pipe2(t, O_CLOEXEC) || pipe2(r, O_CLOEXEC)) die("pipe2");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      close(t[1]);
      close(r[0]);
      for (int j = 0; j < i; j++) { /* else worker j never sees end of stream */
        close(w[j].task_fd);
        close(w[j].result_fd);
      }
      _exit(echo_loop(t[0], r[1]));
    }
    close(t[0]);
    close(r[1]);
    w[i].pid = pid;
    w[i].task_fd = t[1];
    w[i].result_fd = r[0];
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, r[0], &ev)) die("epoll_ctl");
  }
  uint64_t next = 0, done = 0;
  char out[1024 * 12];
  /* Sends worker i as many tasks as it has free slots, in one write. */
#define REFILL(i)                                                    \
  do {                                                               \
    size_t len = 0;                                                  \
    while (w[i].count < depth && next < (uint64_t)n) {               \
      uint32_t be = htonl(8);                                        \
      memcpy(out + len, &be, 4);                                     \
      memcpy(out + len + 4, &next, 8);                               \
      len += 12;                                                     \
      w[i].sent[(w[i].head + w[i].count++) % 1024] = next++;         \
    }                                                                \
    if (len && write_all(w[i].task_fd, out, len)) die("write task"); \
  } while (0)
  const uint64_t t0 = now_ns();
  for (int i = 0; i < workers; i++) REFILL(i);
  while (done < (uint64_t)n) {
    struct epoll_event evs[64];
    int k = epoll_wait(ep, evs, 64, -1);
    if (k < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int e = 0; e < k; e++) {
      raw_worker_t *x = &w[evs[e].data.u32];
      ssize_t got = read(x->result_fd, x->buf + x->end, sizeof x->buf - x->end);
      if (got <= 0) die("read result");
      x->end += (size_t)got;
      size_t pos = 0;
      while (x->end - pos >= 12) {
        uint32_t be;
        uint64_t seq;
        memcpy(&be, x->buf + pos, 4);
        memcpy(&seq, x->buf + pos + 4, 8);
        if (ntohl(be) != 8 || x->count == 0 || seq != x->sent[x->head]) die("wrong result");
        x->head = (x->head + 1) % 1024;
        x->count--;
        pos += 12;
        done++;
      }
      memmove(x->buf, x->buf + pos, x->end - pos);
      x->end -= pos;
      REFILL(evs[e].data.u32);
    }
  }
  const double secs = (now_ns() - t0) / 1e9;
#undef REFILL
  for (int i = 0; i < workers; i++) {
    close(w[i].task_fd);
    int st;
    if (waitpid(w[i].pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) die("worker");
    close(w[i].result_fd);
  }
  close(ep);
  free(w);
  printf("c.pool.8B.d%d.rate %.0f tasks/s\n", depth, n / secs);
  fflush(stdout);
}

static const size_t SIZES[] = {8, 64, 1024, 64 << 10, 1 << 20, 16 << 20};
/* message counts per size at --scale 1 (~0.3-1 s each on a 2-vCPU VM) */
static const long COUNTS[] = {1000000, 1000000, 500000, 20000, 1000, 64};
static const long BATCHED_COUNTS[] = {20000000, 10000000, 1000000, 20000, 1000, 64};

int main(int argc, char **argv) {
  const char *what = "all";
  signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--scale") && i + 1 < argc)
      g_scale = atof(argv[++i]);
    else
      what = argv[i];
  }
  char self[4096];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  if (k <= 0) die("readlink /proc/self/exe");
  self[k] = 0;
  snprintf(g_ready, sizeof g_ready, "%s/ready", dirname(self));

  int all = !strcmp(what, "all");
  printf("c.info.nproc %ld cpus\n", sysconf(_SC_NPROCESSORS_ONLN));
  fflush(stdout);
  if (all || !strcmp(what, "tp")) {
    for (int i = 0; i < 6; i++) throughput(SIZES[i], scaled(COUNTS[i], 16), TP_PLAIN);
    for (int i = 0; i < 6; i++) throughput(SIZES[i], scaled(BATCHED_COUNTS[i], 16), TP_BATCHED);
    for (int i = 3; i < 6; i++) throughput(SIZES[i], scaled(COUNTS[i], 16), TP_PIPE1M);
    for (int i = 0; i < 3; i++) throughput(SIZES[i], scaled(COUNTS[i], 16), TP_SIGMASK);
    for (int i = 0; i < 6; i++) throughput(SIZES[i], scaled(COUNTS[i], 16), TP_SOCK);
    for (int i = 3; i < 6; i++) throughput(SIZES[i], scaled(COUNTS[i], 16), TP_SOCK4M);
  }
  if (all || !strcmp(what, "pp")) {
    long it = scaled(20000, 200);
    for (int pin = 1; pin <= 2; pin++) {
      pingpong(8, it, it / 20, pin);
      pingpong(4096, it, it / 20, pin);
    }
  }
  if (all || !strcmp(what, "spawn")) {
    long runs = scaled(400, 20);
    for (int h = SP_FORK_EXIT; h <= SP_SPAWN_READY; h++) spawn_bench(h, runs, 5.0, "");
    size_t big = 256u << 20;
    char *mem = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) die("mmap");
    madvise(mem, big, MADV_NOHUGEPAGE); /* 4 KiB pages, like a fragmented heap */
    memset(mem, 1, big);
    long big_runs = scaled(100, 20);
    for (int h = SP_FORK_EXIT; h <= SP_SPAWN_READY; h++) spawn_bench(h, big_runs, 5.0, "_rss256M");
    munmap(mem, big);
  }
  if (all || !strcmp(what, "wait")) {
    raise_nofile();
    long it = scaled(100000, 1000);
    wait_bench(1, it);
    wait_bench(64, it);
    wait_bench(1024, it);
  }
  if (all || !strcmp(what, "pool")) {
    long n = scaled(100000, 2000);
    pool_bench(2, 2, n); /* the pool's default: a task running and one read ahead */
    pool_bench(2, 16, n);
  }
  return 0;
}
