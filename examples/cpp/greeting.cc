// Seed program 1: a process runs a function with an argument; the parent joins it.
//
//   def greet(name): print('hello', name)
//   p = Process(target=greet, args=('world',)); p.start(); p.join()
#include <cstdio>
#include <string>

#include "tubo/tubo.h"

int main() {
  auto greet = [](const std::string& name) { std::printf("hello %s\n", name.c_str()); };
  absl::StatusOr<tubo::Process> p = tubo::Fork([&] { greet("world"); });
  if (!p.ok()) {
    std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<tubo::ExitStatus> status = p->Wait();
  return status.ok() && status->success() ? 0 : 1;
}
