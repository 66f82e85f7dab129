// The pool tests' runner: a child started with Command::Self (a self pool
// worker) runs its entry point (workers.cc) instead of the tests.
#include "gtest/gtest.h"
#include "tubo/entry.h"

int main(int argc, char** argv) {
  tubo::RunEntryIfRequested(argc, argv);  // never returns in a worker
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
