/* abi_bench: the round trip of tubo_bench's "abi" section (rt.<S>) through the
 * C ABI (capi/tubo.h, libtubo.so.1): tubo_end_send of an S-byte message to
 * bench/echo_peer (spawned with tubo_command_*, channels "in"/"out"), then
 * tubo_end_recv of its echo and tubo_bytes_free. Same peer, sizes, counts and
 * payload layout as tubo_bench.cc's RoundTrip.
 *
 * Output: "lib.rt_capi.<S>.{p50,p99,mean,n}" lines (microseconds).
 * Usage: abi_bench [--scale F] [--peer PATH]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tubo.h"

static double g_scale = 1.0;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long scaled(long n, long min) {
  long v = (long)(n * g_scale);
  return v < min ? min : v;
}

static void check(int rc, tubo_error *err, const char *what) {
  if (rc < 0) {
    fprintf(stderr, "abi_bench: %s: %s\n", what, tubo_error_message(err));
    exit(2);
  }
}

static void stamp(uint8_t *p, size_t s, uint64_t seq) {
  if (s >= 8) memcpy(p, &seq, 8);
  if (s > 8) p[s - 1] = (uint8_t)seq;
}

static int verify(const uint8_t *p, size_t s, uint64_t seq) {
  if (s >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    if (v != seq) return 0;
  }
  return s <= 8 || p[s - 1] == (uint8_t)seq;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static const char *size_name(size_t s) {
  static char name[32];
  if (s >= (1u << 20) && s % (1u << 20) == 0) {
    snprintf(name, sizeof name, "%zuMiB", s >> 20);
  } else if (s >= 1024 && s % 1024 == 0) {
    snprintf(name, sizeof name, "%zuKiB", s >> 10);
  } else {
    snprintf(name, sizeof name, "%zuB", s);
  }
  return name;
}

static void report(const char *name, uint64_t *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_u64);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (double)v[i];
  size_t i99 = (size_t)(0.99 * (double)(n - 1) + 0.5);
  printf("lib.%s.p50 %.3f us\n", name, v[n / 2] / 1e3);
  printf("lib.%s.p99 %.3f us\n", name, v[i99] / 1e3);
  printf("lib.%s.mean %.3f us\n", name, sum / (double)n / 1e3);
  printf("lib.%s.n %zu runs\n", name, n);
  fflush(stdout);
}

static void round_trip(const char *peer, size_t size, long iters, long warm) {
  tubo_error *err = NULL;
  tubo_end *p2c_r, *p2c_w, *c2p_r, *c2p_w;
  check(tubo_pipe_new(&p2c_r, &p2c_w, &err), err, "pipe");
  check(tubo_pipe_new(&c2p_r, &c2p_w, &err), err, "pipe");
  tubo_command *cmd;
  check(tubo_command_new(&cmd, peer, &err), err, "command");
  check(tubo_command_channel(cmd, "in", p2c_r, &err), err, "channel in");
  check(tubo_command_channel(cmd, "out", c2p_w, &err), err, "channel out");
  tubo_process *child;
  check(tubo_command_spawn(&child, cmd, &err), err, "spawn");
  tubo_command_free(cmd);

  uint8_t *msg = malloc(size);
  memset(msg, 0xcd, size);
  uint64_t *lat = malloc(sizeof(uint64_t) * (size_t)iters);
  size_t n = 0;
  for (long i = 0; i < warm + iters; ++i) {
    stamp(msg, size, (uint64_t)i);
    tubo_bytes *m = NULL;
    const uint64_t t0 = now_ns();
    check(tubo_end_send(p2c_w, msg, size, &err), err, "send");
    int rc = tubo_end_recv(&m, c2p_r, &err);
    check(rc, err, "recv");
    const uint64_t t1 = now_ns();
    if (rc != TUBO_OK || m->len != size || !verify(m->data, size, (uint64_t)i)) {
      fprintf(stderr, "abi_bench: bad echo\n");
      exit(2);
    }
    tubo_bytes_free(m);
    if (i >= warm) lat[n++] = t1 - t0;
  }
  tubo_end_free(p2c_w);
  int code = -1;
  check(tubo_process_wait(&code, child, &err), err, "wait");
  if (code != 0) {
    fprintf(stderr, "abi_bench: echo_peer exited %d\n", code);
    exit(2);
  }
  tubo_process_free(child);
  tubo_end_free(c2p_r);
  char name[64];
  snprintf(name, sizeof name, "rt_capi.%s", size_name(size));
  report(name, lat, n);
  free(lat);
  free(msg);
}

int main(int argc, char **argv) {
  char peer[4096];
  const char *slash = strrchr(argv[0], '/');
  snprintf(peer, sizeof peer, "%.*secho_peer", slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
      g_scale = atof(argv[++i]);
    } else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc) {
      snprintf(peer, sizeof peer, "%s", argv[++i]);
    }
  }
  /* Sizes and counts of tubo_bench.cc's "abi" section. */
  const size_t sizes[] = {8, 1024, 64 << 10, 1 << 20};
  const long iters[] = {20000, 20000, 4000, 400};
  for (int i = 0; i < 4; ++i) {
    long it = scaled(iters[i], 50);
    round_trip(peer, sizes[i], it, it / 20 > 5 ? it / 20 : 5);
  }
  return 0;
}
