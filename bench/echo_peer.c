/* echo_peer: the one echo peer of the "abi" round-trip section, in raw
 * syscalls, so that the C++ API, the C ABI, the Go binding, the Python binding
 * and CPython's multiprocessing.connection are all measured against the same
 * peer and the same pipes (only the parent's side differs).
 *
 * Takes two descriptors from TUBO_CHANNELS (contract 2: "name:fd:mode,..."):
 * `in` (read) and `out` (write), enlarges both pipes to 1 MiB (as the
 * "raw C with a 1 MiB pipe" baseline does; tubo's own growth is then a no-op),
 * and sends every contract-1 frame back unchanged with one write per frame,
 * until end of stream; then exits 0. Frames: 4-byte big-endian length, or -1
 * followed by an 8-byte big-endian length.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int channel_fd(const char *name) {
  const char *v = getenv("TUBO_CHANNELS");
  size_t n = strlen(name);
  while (v != NULL && *v) {
    if (strncmp(v, name, n) == 0 && v[n] == ':') return atoi(v + n + 1);
    v = strchr(v, ',');
    if (v != NULL) ++v;
  }
  fprintf(stderr, "echo_peer: no channel %s in TUBO_CHANNELS\n", name);
  exit(2);
}

static char *buf;
static size_t cap, begin, end;

/* Makes at least `need` bytes available from buf + begin; 0 on EOF before any
 * byte of them when `clean` is 1, exits on error or mid-frame EOF. */
static int fill(int fd, size_t need, int clean) {
  if (begin + need > cap) {
    memmove(buf, buf + begin, end - begin);
    end -= begin;
    begin = 0;
    if (need > cap) {
      while (cap < need) cap *= 2;
      buf = realloc(buf, cap);
      if (buf == NULL) exit(3);
    }
  }
  while (end - begin < need) {
    ssize_t r = read(fd, buf + end, cap - end);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      perror("echo_peer: read");
      exit(1);
    }
    if (r == 0) {
      if (clean && end == begin) return 0;
      fprintf(stderr, "echo_peer: EOF inside a frame\n");
      exit(1);
    }
    end += (size_t)r;
  }
  return 1;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      perror("echo_peer: write");
      exit(1);
    }
    p += w;
    n -= (size_t)w;
  }
}

int main(void) {
  int in = channel_fd("in"), out = channel_fd("out");
  signal(SIGPIPE, SIG_IGN);
  fcntl(in, F_SETPIPE_SZ, 1 << 20);
  fcntl(out, F_SETPIPE_SZ, 1 << 20);
  cap = 1 << 16;
  buf = malloc(cap);
  if (buf == NULL) return 3;
  for (;;) {
    if (!fill(in, 4, 1)) return 0;
    const unsigned char *h = (const unsigned char *)buf + begin;
    int32_t len32 =
        (int32_t)((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3]);
    size_t hdr = 4;
    uint64_t len;
    if (len32 == -1) {
      fill(in, 12, 0);
      h = (const unsigned char *)buf + begin;
      len = 0;
      for (int i = 4; i < 12; ++i) len = len << 8 | h[i];
      hdr = 12;
    } else if (len32 < 0) {
      fprintf(stderr, "echo_peer: bad length %d\n", len32);
      return 1;
    } else {
      len = (uint64_t)len32;
    }
    fill(in, hdr + (size_t)len, 0);
    write_all(out, buf + begin, hdr + (size_t)len);
    begin += hdr + (size_t)len;
    if (begin == end) begin = end = 0;
  }
}
