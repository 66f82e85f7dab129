// Calls the shared object that carries libtubo-cpp.a (probe.cc).
#include <cstdio>

extern "C" int ProbeRoundTrip();

int main() {
  if (ProbeRoundTrip() != 0) {
    std::fprintf(stderr, "probe: the round trip through libprobe.so failed\n");
    return 1;
  }
  std::printf("probe: a message went through a pipe inside libprobe.so\n");
  return 0;
}
