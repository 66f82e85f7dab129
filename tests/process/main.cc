// The test runner: a child started with Command::Self runs its entry point
// (see helpers.cc) instead of the tests.
#include "gtest/gtest.h"
#include "tubo/entry.h"

int main(int argc, char** argv) {
  tubo::RunEntryIfRequested(argc, argv);  // never returns in a helper child
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
