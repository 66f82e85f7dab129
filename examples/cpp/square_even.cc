// Seed program 2: `square` and `is_even` run as two processes over one list;
// the parent joins both and prints "Done". The workers use the self start
// method: this binary re-executed into a registered entry point.
//
//   p1 = Process(target=square, args=(numbers,))
//   p2 = Process(target=is_even, args=(numbers,))
//   p1.start(); p2.start(); p1.join(); p2.join(); print("Done")
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "tubo/tubo.h"

namespace {

std::vector<int> Numbers(const std::vector<std::string>& args) {
  std::vector<int> numbers;
  for (const std::string& a : args) {
    int n;
    if (absl::SimpleAtoi(a, &n)) numbers.push_back(n);
  }
  return numbers;
}

}  // namespace

TUBO_ENTRY(square) {
  for (int x : Numbers(args)) std::printf("%d squared is %d\n", x, x * x);
  return 0;
}

TUBO_ENTRY(is_even) {
  for (int x : Numbers(args)) {
    if (x % 2 == 0) std::printf("%d is an even number\n", x);
  }
  return 0;
}

int main(int argc, char** argv) {
  tubo::RunEntryIfRequested(argc, argv);
  const std::vector<std::string> numbers = {"43", "50", "5", "98", "34", "35"};
  absl::StatusOr<tubo::Process> p1 = tubo::Command::Self("square").Args(numbers).Spawn();
  absl::StatusOr<tubo::Process> p2 = tubo::Command::Self("is_even").Args(numbers).Spawn();
  for (absl::StatusOr<tubo::Process>* p : {&p1, &p2}) {
    if (!p->ok()) {
      std::fprintf(stderr, "%s\n", p->status().ToString().c_str());
      return 1;
    }
  }
  absl::StatusOr<tubo::ExitStatus> s1 = p1->Wait();
  absl::StatusOr<tubo::ExitStatus> s2 = p2->Wait();
  std::printf("Done\n");
  return s1.ok() && s1->success() && s2.ok() && s2->success() ? 0 : 1;
}
