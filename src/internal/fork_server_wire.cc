// The fork server's messages (tubo/internal/fork_server_wire.h).
#include "tubo/internal/fork_server_wire.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tubo {
namespace internal {
namespace {

// Appends fixed-size integers (host order: both ends are the same binary)
// and length-prefixed strings.
class Writer {
 public:
  void U32(uint32_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what Writer wrote; every read checks the bounds, and a failed read
// makes every later one fail too.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U32(uint32_t* v) {
    if (!ok_ || in_.size() < sizeof(*v)) return ok_ = false;
    std::memcpy(v, in_.data(), sizeof(*v));
    in_.remove_prefix(sizeof(*v));
    return true;
  }
  bool I32(int32_t* v) {
    uint32_t u = 0;
    if (!U32(&u)) return false;
    *v = static_cast<int32_t>(u);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n = 0;
    if (!U32(&n) || in_.size() < n) return ok_ = false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Magic() {
    uint32_t m = 0;
    return U32(&m) && m == kForkServerMagic;
  }
  // True if everything read so far was there and nothing is left over.
  bool Done() const { return ok_ && in_.empty(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

constexpr uint32_t kClearEnv = 1;
constexpr uint32_t kHasCwd = 2;
constexpr uint32_t kDieWithParent = 4;
constexpr uint32_t kNewProcessGroup = 8;

}  // namespace

std::string EncodeHello() {
  Writer w;
  w.U32(kForkServerMagic);
  return w.Take();
}

bool DecodeHello(std::string_view data) {
  Reader r(data);
  return r.Magic() && r.Done();
}

std::string EncodeRequest(const ForkServerRequest& q) {
  Writer w;
  w.U32(kForkServerMagic);
  w.U32(q.seq);
  w.U32((q.clear_env ? kClearEnv : 0u) | (q.cwd ? kHasCwd : 0u) |
        (q.die_with_parent ? kDieWithParent : 0u) | (q.new_process_group ? kNewProcessGroup : 0u));
  w.Str(q.entry);
  w.U32(static_cast<uint32_t>(q.args.size()));
  for (const std::string& a : q.args) w.Str(a);
  w.U32(static_cast<uint32_t>(q.env_changes.size()));
  for (const auto& [name, value] : q.env_changes) {
    w.U32(value ? 1 : 0);
    w.Str(name);
    if (value) w.Str(*value);
  }
  if (q.cwd) w.Str(*q.cwd);
  for (int i = 0; i < 3; ++i) {
    w.U32(static_cast<uint32_t>(q.stdio[i]));
    if (q.stdio[i] == StdioKind::kFile) w.Str(q.stdio_path[i]);
  }
  w.U32(static_cast<uint32_t>(q.channels.size()));
  for (const auto& [name, mode] : q.channels) {
    w.Str(name);
    w.Str(mode);
  }
  return w.Take();
}

void SetRequestSeq(uint32_t seq, std::string* encoded) {
  std::memcpy(encoded->data() + sizeof(kForkServerMagic), &seq, sizeof(seq));
}

bool DecodeRequest(std::string_view data, ForkServerRequest* q) {
  Reader r(data);
  uint32_t flags = 0, count = 0;
  if (!r.Magic() || !r.U32(&q->seq) || !r.U32(&flags) || !r.Str(&q->entry) || !r.U32(&count)) {
    return false;
  }
  q->clear_env = (flags & kClearEnv) != 0;
  q->die_with_parent = (flags & kDieWithParent) != 0;
  q->new_process_group = (flags & kNewProcessGroup) != 0;
  // Each element takes at least 4 bytes: a count larger than what is left is
  // malformed, and never a reason to reserve memory.
  if (count > data.size() / 4) return false;
  q->args.resize(count);
  for (std::string& a : q->args) r.Str(&a);
  if (!r.U32(&count) || count > data.size() / 4) return false;
  q->env_changes.resize(count);
  for (auto& [name, value] : q->env_changes) {
    uint32_t has_value = 0;
    r.U32(&has_value);
    r.Str(&name);
    if (has_value != 0) {
      std::string v;
      r.Str(&v);
      value = std::move(v);
    }
  }
  if ((flags & kHasCwd) != 0) {
    std::string cwd;
    r.Str(&cwd);
    q->cwd = std::move(cwd);
  }
  for (int i = 0; i < 3; ++i) {
    uint32_t kind = 0;
    r.U32(&kind);
    if (kind > static_cast<uint32_t>(StdioKind::kFd)) return false;
    q->stdio[i] = static_cast<StdioKind>(kind);
    if (q->stdio[i] == StdioKind::kFile) r.Str(&q->stdio_path[i]);
  }
  if (!r.U32(&count) || count > data.size() / 4) return false;
  q->channels.resize(count);
  for (auto& [name, mode] : q->channels) {
    r.Str(&name);
    r.Str(&mode);
  }
  return r.Done();
}

std::string EncodeReply(const ForkServerReply& reply) {
  Writer w;
  w.U32(kForkServerMagic);
  w.U32(reply.seq);
  w.I32(reply.error);
  w.I32(reply.pid);
  w.Str(reply.message);
  return w.Take();
}

bool DecodeReply(std::string_view data, ForkServerReply* reply) {
  Reader r(data);
  return r.Magic() && r.U32(&reply->seq) && r.I32(&reply->error) && r.I32(&reply->pid) &&
         r.Str(&reply->message) && r.Done();
}

size_t EncodeWorkerReply(uint32_t seq, int32_t error, int32_t pid, const char* stage,
                         char (&out)[kWorkerReplySize]) {
  constexpr size_t kHeader = 5 * sizeof(uint32_t);  // magic, seq, errno, pid, message length
  const size_t len = std::min(std::strlen(stage), kWorkerReplySize - kHeader);
  const uint32_t words[5] = {kForkServerMagic, seq, static_cast<uint32_t>(error),
                             static_cast<uint32_t>(pid), static_cast<uint32_t>(len)};
  std::memcpy(out, words, kHeader);
  std::memcpy(out + kHeader, stage, len);
  return kHeader + len;
}

int SendWithFds(int sock, std::string_view data, const int* fds, size_t count) {
  if (count > kForkServerMaxFds) return EINVAL;
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kForkServerMaxFds)];
  if (count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * count);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

ssize_t RecvWithFds(int sock, char* buf, size_t size, std::vector<OwnedFd>* fds) {
  struct iovec iov = {buf, size};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kForkServerMaxFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  // Adopt whatever arrived first, so that nothing leaks on the error paths.
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds->push_back(OwnedFd::Adopt(fd));
    }
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return -EMSGSIZE;
  return n;
}

}  // namespace internal
}  // namespace tubo
