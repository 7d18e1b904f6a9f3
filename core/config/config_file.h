// Reading eltrix.conf and conf.d/*.conf.
//
// The format is deliberately small: `key = value` lines, `#` comment lines and
// blank lines. The value is the rest of the line with surrounding blanks
// removed; wrap it in double quotes to keep leading or trailing blanks. There
// are no inline comments, so a '#' in a password is just a character. We
// parse it ourselves (rather than with Poco's PropertyFileConfiguration) so
// every error and every setting can name its file and line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace eltrix::config {

struct Setting {
  std::string key;
  std::string value;
  std::string origin;  ///< "/etc/eltrix/eltrix.conf:12" or "env ELTRIX_PORT"
};

struct ParsedFile {
  std::vector<Setting> settings;
  std::vector<std::string> errors;  ///< each names file:line, what was found and what was expected
};

/// Parses text; `name` is used in origins ("<name>:<line>").
ParsedFile parse_config_text(std::string_view text, std::string_view name);

/// Reads and parses a file; an unreadable file is one error naming it.
ParsedFile read_config_file(const std::filesystem::path& path);

/// The *.conf files of a conf.d directory, sorted by name; none if it is missing.
std::vector<std::filesystem::path> conf_d_files(const std::filesystem::path& directory);

/// Largest accepted config file; a bigger one is refused rather than read.
inline constexpr std::uintmax_t kMaxConfigFileSize = 1024 * 1024;

}  // namespace eltrix::config
