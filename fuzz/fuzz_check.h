// Shared by the fuzz targets (fuzz/README in docs/testing.md, "Fuzzing").
//
// A target checks properties, not only "does not crash": FUZZ_CHECK aborts
// with the failed condition when a property does not hold, and libFuzzer then
// reports the input as a crash and saves it (crash-<sha1>).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace eltrix::fuzz {

[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, condition);
  std::abort();
}

/// The fuzzer's input as text (the parsers take std::string_view).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace eltrix::fuzz

#define FUZZ_CHECK(condition)                                                       \
  do {                                                                              \
    if (!(condition)) ::eltrix::fuzz::check_failed(#condition, __FILE__, __LINE__); \
  } while (false)
