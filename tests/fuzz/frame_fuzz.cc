// libFuzzer target: the frame decoder and both receive paths, differentially.
//
// The input describes a byte stream, the end's maximum message size and a
// sequence of receive calls. The stream sits in a memfd read through a real
// ReadEnd. This binary is linked with -Wl,--wrap=read, so tubo's read(2)
// calls come to __wrap_read below, which cuts each read at the next chunk
// boundary the input chose (and, where the input says, fails it once with
// EINTR first): short reads and interruptions fall where the fuzzer puts
// them, deterministically and without threads. The calls alternate between
// Recv (library buffer) and RecvInto (a caller buffer of exactly the chosen
// size, so ASan sees any overrun), their timed forms RecvFor and RecvIntoFor,
// plus Poll. The binary also wraps ppoll(2): a timed call picks the wait
// (if any) at which the descriptor looks idle, so its deadline passes at
// that point of the frame, and the next call must continue the frame with
// nothing lost. Every outcome is compared with a reference decoder of
// contract 1 written from docs/wire.md: same messages, EOF, too-small answers
// and error kinds, and errors stay sticky.
//
// Input layout:
//   byte 0      maximum message size (index into kMaxSizes)
//   bytes 1-3   seed of the call sequence
//   then records, each a tag byte t, each making one chunk:
//     t < 0x80          the next (t & 0x3f) + 1 bytes, literally; bit 0x40: the
//                       first read of the chunk fails with EINTR first
//     0x80 <= t < 0xc0  ((t & 0x3f) + 1) * 1024 copies of the next byte
//     t >= 0xc0         a 12-byte header for ((t & 0x3f) + 1) * 65521 bytes
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tubo/tubo.h"

namespace {

constexpr uint64_t kMaxSizes[] = {0,          1,
                                  4,          5,
                                  100,        65535,
                                  65536,      65537,
                                  (1u << 17), (1u << 18) + 3,
                                  1 << 20,    uint64_t{1} << 30,
                                  UINT64_MAX};
constexpr size_t kCapacities[] = {0, 1, 3, 4, 5, 16, 100, 4096, 65535, 65536, 65537, 300000};
constexpr size_t kMaxCapacity = 300000;
constexpr size_t kMaxStream = 1 << 20;  // bounds the work per input
constexpr int kMaxCalls = 48;

#define CHECK(cond)                                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "frame_fuzz: check failed at line %d: %s\n", __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

// --- The read(2) the decoder sees. ---
struct Schedule {
  int fd = -1;                    // the descriptor being fuzzed, or -1
  std::vector<size_t> ends;       // stream offsets where chunks end, ascending
  std::vector<bool> eintr;        // per chunk: fail its first read with EINTR
  std::vector<bool> interrupted;  // per chunk: that EINTR was delivered
  size_t pos = 0;                 // the descriptor's offset (only reads move it)
  int idle_at = -1;               // the wait (0, 1, ...) of this call that finds nothing
  int waits = 0;                  // waits on `fd` during this call
  bool idled = false;             // a wait of this call found nothing
};
Schedule g_schedule;

// --- The reference decoder (contract 1, docs/wire.md). ---
enum class Outcome { kMessage, kEof, kTruncated, kBadLength, kTooLarge };

struct Frame {
  Outcome outcome;
  uint64_t size = 0;       // payload size (kMessage, and the header of kTruncated payloads)
  size_t payload = 0;      // offset of the payload in the stream
  bool header_ok = false;  // a whole, acceptable header was there (RecvInto may say too small)
  size_t next = 0;         // stream offset after this frame
};

Frame Reference(const std::string& s, size_t pos, uint64_t max) {
  Frame f;
  const size_t left = s.size() - pos;
  if (left == 0) return {Outcome::kEof};
  if (left < 4) return {Outcome::kTruncated};
  auto byte = [&](size_t i) {
    return static_cast<uint64_t>(static_cast<unsigned char>(s[pos + i]));
  };
  const int32_t length = static_cast<int32_t>(
      static_cast<uint32_t>((byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3)));
  size_t header = 4;
  uint64_t size;
  if (length == -1) {
    if (left < 12) return {Outcome::kTruncated};
    size = 0;
    for (int i = 4; i < 12; ++i) size = (size << 8) | byte(i);
    header = 12;
  } else if (length < 0) {
    return {Outcome::kBadLength};
  } else {
    size = static_cast<uint64_t>(length);
  }
  if (size > max) return {Outcome::kTooLarge};
  f.header_ok = true;
  f.size = size;
  f.payload = pos + header;
  if (left - header < size) {
    f.outcome = Outcome::kTruncated;
    return f;
  }
  f.outcome = Outcome::kMessage;
  f.next = pos + header + size;
  return f;
}

tubo::Error ErrorFor(Outcome o) {
  switch (o) {
    case Outcome::kTruncated:
      return tubo::Error::kTruncated;
    case Outcome::kBadLength:
      return tubo::Error::kBadLength;
    case Outcome::kTooLarge:
      return tubo::Error::kTooLarge;
    default:
      return tubo::Error::kOk;
  }
}

// A tiny deterministic PRNG for the call sequence.
struct Rng {
  uint32_t state;
  uint32_t Next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
};

int Memfd() {
  static int fd = [] {
    int f = ::memfd_create("frame_fuzz", MFD_CLOEXEC);
    CHECK(f >= 0);
    return f;
  }();
  return fd;
}

}  // namespace

extern "C" ssize_t __real_read(int fd, void* buf, size_t count);

extern "C" ssize_t __wrap_read(int fd, void* buf, size_t count) {
  if (fd != g_schedule.fd || count == 0) return __real_read(fd, buf, count);
  const size_t pos = g_schedule.pos;
  // The chunk holding `pos`: the first whose end is beyond it.
  size_t i = std::upper_bound(g_schedule.ends.begin(), g_schedule.ends.end(), pos) -
             g_schedule.ends.begin();
  if (i == g_schedule.ends.size()) return __real_read(fd, buf, count);  // at the end: EOF
  if (g_schedule.eintr[i] && !g_schedule.interrupted[i]) {
    g_schedule.interrupted[i] = true;
    errno = EINTR;
    return -1;
  }
  const ssize_t n = __real_read(fd, buf, std::min(count, g_schedule.ends[i] - pos));
  if (n > 0) g_schedule.pos += static_cast<size_t>(n);
  return n;
}

extern "C" int __real_ppoll(struct pollfd* fds, nfds_t n, const struct timespec* timeout,
                            const sigset_t* mask);

extern "C" int __wrap_ppoll(struct pollfd* fds, nfds_t n, const struct timespec* timeout,
                            const sigset_t* mask) {
  if (n == 1 && fds[0].fd == g_schedule.fd && g_schedule.fd >= 0 &&
      g_schedule.waits++ == g_schedule.idle_at) {
    g_schedule.idled = true;
    fds[0].revents = 0;
    return 0;  // the deadline passed with nothing to read
  }
  return __real_ppoll(fds, n, timeout, mask);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint64_t max = kMaxSizes[data[0] % (sizeof(kMaxSizes) / sizeof(kMaxSizes[0]))];
  Rng rng{(uint32_t{data[1]} << 16 | uint32_t{data[2]} << 8 | data[3]) | 1u};

  // Build the stream (in one buffer kept across inputs: no page faults) and
  // the chunk boundaries.
  static std::string* const stream_buffer = [] {
    auto* b = new std::string;
    b->reserve(kMaxStream + (64 << 10));
    return b;
  }();
  std::string& stream = *stream_buffer;
  stream.clear();
  g_schedule.ends.clear();
  g_schedule.eintr.clear();
  for (size_t i = 4; i < size && stream.size() <= kMaxStream;) {
    const uint8_t t = data[i++];
    const size_t before = stream.size();
    bool eintr = false;
    if (t < 0x80) {
      eintr = (t & 0x40) != 0;
      const size_t n = std::min<size_t>((t & 0x3f) + 1, size - i);
      stream.append(reinterpret_cast<const char*>(data + i), n);
      i += n;
    } else if (t < 0xc0) {
      const char fill = i < size ? static_cast<char>(data[i++]) : 'x';
      stream.append(((t & 0x3f) + 1) * size_t{1024}, fill);
    } else {
      const uint64_t n = ((t & 0x3f) + 1) * uint64_t{65521};
      stream.append("\xff\xff\xff\xff", 4);
      for (int b = 7; b >= 0; --b) stream.push_back(static_cast<char>(n >> (8 * b)));
    }
    if (stream.size() == before) continue;
    g_schedule.ends.push_back(stream.size());
    g_schedule.eintr.push_back(eintr);
  }
  g_schedule.interrupted.assign(g_schedule.ends.size(), false);

  const int memfd = Memfd();
  CHECK(::pwrite(memfd, stream.data(), stream.size(), 0) == static_cast<ssize_t>(stream.size()));
  CHECK(::ftruncate(memfd, static_cast<off_t>(stream.size())) == 0);
  const int fd = ::fcntl(memfd, F_DUPFD_CLOEXEC, 3);  // shares the offset: rewind it
  CHECK(fd >= 0);
  CHECK(::lseek(fd, 0, SEEK_SET) == 0);
  g_schedule.fd = fd;
  g_schedule.pos = 0;
  tubo::ReadEnd end{tubo::OwnedFd::Adopt(fd)};
  end.set_max_message_size(max);

  size_t pos = 0;                     // reference position in the stream
  std::optional<tubo::Error> sticky;  // the reference's sticky error
  int after_end = 0;                  // calls made after EOF or an error: 3 show it stays
  for (int call = 0; call < kMaxCalls && after_end < 3; ++call) {
    if (sticky || pos == stream.size()) ++after_end;
    const uint32_t r = rng.Next();
    const int kind = r % 7;  // 0-1 Recv, 2-3 RecvInto, 4 Poll, 5 RecvFor, 6 RecvIntoFor
    const bool timed = kind >= 5;
    // A timed call: the wait (0..5) that finds the descriptor idle, or none (6, 7).
    g_schedule.idle_at = timed && ((r >> 24) & 7) < 6 ? static_cast<int>((r >> 24) & 7) : -1;
    g_schedule.waits = 0;
    g_schedule.idled = false;
    const absl::Duration kLong = absl::Hours(1);  // only the wrapped ppoll makes it pass
    // A deadline that passed: not an error, nothing lost, the frame continues.
    auto timed_out = [&](const absl::Status& status) {
      if (status.ok() || tubo::ErrorOf(status) != tubo::Error::kTimeout) return false;
      CHECK(timed && g_schedule.idled);
      return true;
    };
    const Frame f = sticky ? Frame{} : Reference(stream, pos, max);
    const tubo::Error want_error = sticky ? *sticky : ErrorFor(f.outcome);
    if (kind == 4) {
      absl::StatusOr<bool> ready = end.Poll();
      if (sticky) {
        CHECK(!ready.ok() && tubo::ErrorOf(ready.status()) == *sticky);
      } else {
        CHECK(ready.ok());
      }
      continue;
    }
    if (kind <= 1 || kind == 5) {
      absl::StatusOr<std::optional<tubo::Bytes>> m = timed ? end.RecvFor(kLong) : end.Recv();
      if (timed_out(m.status())) continue;
      if (want_error != tubo::Error::kOk) {
        CHECK(!m.ok());
        CHECK(tubo::ErrorOf(m.status()) == want_error);
        sticky = want_error;
        continue;
      }
      CHECK(m.ok());
      if (f.outcome == Outcome::kEof) {
        CHECK(!m->has_value());
        continue;
      }
      CHECK(m->has_value());
      CHECK((*m)->size() == f.size);
      CHECK(f.size == 0 || std::memcmp((*m)->data(), stream.data() + f.payload, f.size) == 0);
      pos = f.next;
    } else {
      const size_t capacity =
          kCapacities[(r >> 8) % (sizeof(kCapacities) / sizeof(kCapacities[0]))];
      // The caller's buffer ends exactly where its heap block ends, so ASan
      // reports a write of even one byte past `capacity`.
      static char* const block = new char[kMaxCapacity];
      char* const buffer = capacity > 0 ? block + kMaxCapacity - capacity : nullptr;
      absl::StatusOr<tubo::RecvResult> res =
          timed ? end.RecvIntoFor(buffer, capacity, kLong) : end.RecvInto(buffer, capacity);
      if (timed_out(res.status())) continue;
      if (!sticky && f.header_ok && f.size > capacity) {
        CHECK(res.ok());
        CHECK(res->too_small());
        CHECK(res->size == f.size);
        continue;
      }
      if (want_error != tubo::Error::kOk) {
        CHECK(!res.ok());
        CHECK(tubo::ErrorOf(res.status()) == want_error);
        sticky = want_error;
        continue;
      }
      CHECK(res.ok());
      if (f.outcome == Outcome::kEof) {
        CHECK(res->eof());
        continue;
      }
      CHECK(res->message());
      CHECK(res->size == f.size);
      CHECK(f.size == 0 || std::memcmp(buffer, stream.data() + f.payload, f.size) == 0);
      pos = f.next;
    }
  }
  end.Close().IgnoreError();
  g_schedule.fd = -1;
  return 0;
}
