// A test helper: denies chosen system calls in the calling process (and its
// future children) with a seccomp filter, as a hardened container would.
// Irreversible: call it only in a forked test child.
#ifndef TUBO_TESTS_PROCESS_SECCOMP_H_
#define TUBO_TESTS_PROCESS_SECCOMP_H_

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tubo {
namespace testing {

// One denied system call: `nr` fails with `err`; with a non-zero
// `arg0_mask`, only when its first argument has one of those bits set.
struct Denial {
  int nr;
  int err;
  uint32_t arg0_mask = 0;
};

// Installs the filter. Returns false if the kernel refuses it.
inline bool DenySyscalls(const std::vector<Denial>& denials) {
#if defined(__x86_64__)
  constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "DenySyscalls: unknown architecture"
#endif
  std::vector<sock_filter> f;
  f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  for (const Denial& d : denials) {
    const uint32_t deny = SECCOMP_RET_ERRNO | (static_cast<uint32_t>(d.err) & SECCOMP_RET_DATA);
    f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    if (d.arg0_mask == 0) {
      f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(d.nr), 0, 1));
      f.push_back(BPF_STMT(BPF_RET | BPF_K, deny));
    } else {
      f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(d.nr), 0, 3));
      // The low 32 bits of the first argument (little-endian).
      f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));
      f.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, d.arg0_mask, 0, 1));
      f.push_back(BPF_STMT(BPF_RET | BPF_K, deny));
    }
  }
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog prog = {static_cast<unsigned short>(f.size()), f.data()};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

}  // namespace testing
}  // namespace tubo

#endif  // TUBO_TESTS_PROCESS_SECCOMP_H_
