// A C++ program that registers a self entry through the C ABI
// (tubo_entry_register) and dispatches with the C++ call
// (tubo::RunEntryIfRequested): both use one registry, so the entry runs.
#include <cstring>
#include <string>

#include "capi/tubo.h"
#include "gtest/gtest.h"
#include "tubo/tubo.h"

namespace {

// Exits with 40 plus its number of arguments; argv[0] is the entry's name.
int CEntry(int argc, char** argv) {
  if (std::strcmp(argv[0], "c_entry") != 0 || argv[argc] != nullptr) return 99;
  return 40 + argc - 1;
}

TEST(MixedEntries, CppDispatchRunsAnEntryRegisteredThroughTheCAbi) {
  absl::StatusOr<tubo::Process> p = tubo::Command::Self("c_entry").Arg("a").Arg("b").Spawn();
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<tubo::ExitStatus> st = p->Wait();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ToString(), "exited(42)");
}

TEST(MixedEntries, OneNameCannotBeTakenTwice) {
  EXPECT_FALSE(tubo::RegisterEntry("c_entry", [](const std::vector<std::string>&) { return 0; }));
  EXPECT_EQ(tubo_entry_register("cpp_entry", CEntry, nullptr), TUBO_E_INVALID_ARGUMENT);
}

}  // namespace

TUBO_ENTRY(cpp_entry) { return 0; }

int main(int argc, char** argv) {
  if (tubo_entry_register("c_entry", CEntry, nullptr) != TUBO_OK) return 98;
  tubo::RunEntryIfRequested(argc, argv);  // C++ dispatch of a C entry
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
