// Entry point of integration-storage: skips (exit 77, meson's SKIP) when no
// test database is configured, otherwise runs the Catch2 tests.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "log/log.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

int main(int argc, char* argv[]) {
  const char* url = std::getenv("ELTRIX_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    std::fprintf(stderr,
                 "integration-storage: SKIPPED: ELTRIX_TEST_DATABASE_URL is not set "
                 "(scripts/test sets it; or run scripts/lib/postgres.sh start DIR and export the "
                 "URL it prints)\n");
    return 77;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a killed backend must not kill the test
  // Quiet by default; ELTRIX_TEST_LOG_LEVEL=debug shows every failed statement.
  eltrix::log::Level level = eltrix::log::Level::warn;
  if (const char* text = std::getenv("ELTRIX_TEST_LOG_LEVEL"); text != nullptr) {
    eltrix::log::parse_level(text, level);
  }
  eltrix::log::init(eltrix::log::Format::text, level);
  return Catch::Session().run(argc, argv);
}
