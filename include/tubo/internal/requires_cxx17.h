// Stops a build that compiles tubo's C++ headers in a language mode older
// than C++17 with the fix in the message, before the first confusing error of
// another header. Every header of tubo includes it first.
//
// The usual cause is Bazel: its default C++ toolchain (Bazel 4) compiles with
// -std=c++0x unless the workspace's .bazelrc says otherwise. tubo's headers
// need C++17, and abseil must be compiled in the same mode as its users.
#ifndef TUBO_INTERNAL_REQUIRES_CXX17_H_
#define TUBO_INTERNAL_REQUIRES_CXX17_H_

#if !defined(__cplusplus)
#error "tubo/*.h are C++ headers: a C program includes \"tubo.h\", the C ABI (@tubo//capi)"
#elif __cplusplus < 201703L
#error "tubo needs C++17: add `build --cxxopt=-std=c++17` to .bazelrc, or compile with -std=c++17"
#endif

#endif  // TUBO_INTERNAL_REQUIRES_CXX17_H_
