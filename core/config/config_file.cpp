#include "config/config_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <system_error>

namespace eltrix::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > 128) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

ParsedFile parse_config_text(std::string_view text, std::string_view name) {
  ParsedFile out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto newline = text.find('\n');
    std::string_view line = trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.empty() || line.front() == '#') continue;

    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      out.errors.push_back(fmt::format("{}:{}: found '{}', expected 'key = value'", name, line_no,
                                       line.substr(0, 80)));
      continue;
    }
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (!valid_key(key)) {
      out.errors.push_back(fmt::format(
          "{}:{}: found key '{}', expected a key of lower-case letters, digits, '.', '_' and '-'",
          name, line_no, key.substr(0, 80)));
      continue;
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    out.settings.push_back(
        Setting{std::string(key), std::string(value), fmt::format("{}:{}", name, line_no)});
  }
  return out;
}

ParsedFile read_config_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return ParsedFile{{},
                      {fmt::format("{}: cannot open the config file: {}", path.string(),
                                   std::error_code(errno, std::generic_category()).message())}};
  }
  // Read at most one byte past the limit rather than trusting the file size,
  // which special files (/dev/null, pipes) do not report.
  std::string text(kMaxConfigFileSize + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigFileSize) {
    return ParsedFile{{},
                      {fmt::format("{}: file is larger than {} bytes, expected a config file",
                                   path.string(), kMaxConfigFileSize)}};
  }
  return parse_config_text(text, path.string());
}

std::vector<std::filesystem::path> conf_d_files(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".conf" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace eltrix::config
