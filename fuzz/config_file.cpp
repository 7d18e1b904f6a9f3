// Fuzz target: the config file parser (config/config_file.h). A config file
// is trusted input, but a typo must give an error naming file and line, never
// a crash, and conf.d snippets may come from configuration management.
//
// Input: the text of one config file, any bytes.
// Properties:
//  - every line is either skipped (blank, comment), one setting, or one error;
//  - settings have valid keys and name their line; errors name the file.
#include "config/config_file.h"
#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {
using eltrix::fuzz::as_text;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  const auto parsed = eltrix::config::parse_config_text(text, "fuzz.conf");
  std::size_t lines = 0;
  for (const char c : text) lines += c == '\n' ? 1 : 0;
  if (!text.empty() && text.back() != '\n') ++lines;
  FUZZ_CHECK(parsed.settings.size() + parsed.errors.size() <= lines);
  for (const auto& setting : parsed.settings) {
    FUZZ_CHECK(!setting.key.empty() && setting.key.size() <= 128);
    for (const char c : setting.key) {
      FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                 c == '-');
    }
    FUZZ_CHECK(setting.value.find('\n') == std::string::npos);
    FUZZ_CHECK(setting.origin.rfind("fuzz.conf:", 0) == 0);
  }
  for (const auto& error : parsed.errors) FUZZ_CHECK(error.rfind("fuzz.conf:", 0) == 0);
  return 0;
}
