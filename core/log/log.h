// Structured logging on spdlog: one logger per component, key/value fields,
// text or JSON lines.
//
// Every line goes through Logger so both formats carry the same fields:
//   text: 2026-11-28T03:40:00.123Z info http request method=GET path=/health status=200
//   json:
//   {"ts":"2026-11-28T03:40:00.123Z","level":"info","logger":"http","msg":"request","method":"GET",...}
#pragma once

#include <eltrix/plugin/host.h>

#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace eltrix::log {

using Level = plugin::LogLevel;
using Field = plugin::LogField;

enum class Format { text, json };

/// Configures the sinks (stderr) and the global level. Safe to call again,
/// e.g. once the configuration has been read; existing Loggers follow.
void init(Format format, Level level);

/// Parses "debug", "info", "warn", "error".
bool parse_level(std::string_view text, Level& out);

/// A named component logger. Cheap to copy; create once per component, not
/// per call.
class Logger {
 public:
  explicit Logger(std::string_view component);

  [[nodiscard]] bool enabled(Level level) const;
  void write(Level level, std::string_view message, std::span<const Field> fields) const;

  void debug(std::string_view message, std::initializer_list<Field> fields = {}) const {
    log(Level::debug, message, fields);
  }
  void info(std::string_view message, std::initializer_list<Field> fields = {}) const {
    log(Level::info, message, fields);
  }
  void warn(std::string_view message, std::initializer_list<Field> fields = {}) const {
    log(Level::warn, message, fields);
  }
  void error(std::string_view message, std::initializer_list<Field> fields = {}) const {
    log(Level::error, message, fields);
  }
  void log(Level level, std::string_view message, std::initializer_list<Field> fields) const {
    if (enabled(level))
      write(level, message, std::span<const Field>(fields.begin(), fields.size()));
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

/// Formats the message and fields as the active format expects (exposed for tests).
std::string format_payload(Format format, std::string_view message, std::span<const Field> fields);

}  // namespace eltrix::log
