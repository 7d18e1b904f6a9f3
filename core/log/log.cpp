#include "log/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace eltrix::log {
namespace {

std::atomic<Format> g_format{Format::text};
std::once_flag g_sink_once;
std::shared_ptr<spdlog::sinks::sink> g_sink;

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::sinks::sink> sink() {
  // stderr, so that stdout stays free for command output (--config=default).
  std::call_once(g_sink_once, [] { g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>(); });
  return g_sink;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string format_payload(Format format, std::string_view message, std::span<const Field> fields) {
  std::string out;
  out.reserve(message.size() + fields.size() * 24 + 16);
  if (format == Format::json) {
    out += "\"msg\":";
    append_json_string(out, message);
    for (const auto& f : fields) {
      out += ',';
      append_json_string(out, f.key);
      out += ':';
      append_json_string(out, f.value);
    }
    return out;
  }
  out += message;
  for (const auto& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    if (needs_quotes(f.value)) {
      append_json_string(out, f.value);  // JSON quoting is a fine, unambiguous escape here too
    } else {
      out += f.value;
    }
  }
  return out;
}

void init(Format format, Level level) {
  g_format.store(format);
  const char* pattern = format == Format::json
                            ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n",%v})"
                            : "%Y-%m-%dT%H:%M:%S.%eZ %l %n %v";
  spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>(
      pattern, spdlog::pattern_time_type::utc, std::string("\n")));
  spdlog::set_level(to_spdlog(level));
}

bool parse_level(std::string_view text, Level& out) {
  if (text == "debug")
    out = Level::debug;
  else if (text == "info")
    out = Level::info;
  else if (text == "warn" || text == "warning")
    out = Level::warn;
  else if (text == "error")
    out = Level::error;
  else
    return false;
  return true;
}

Logger::Logger(std::string_view component) {
  std::string name(component);
  logger_ = spdlog::get(name);
  if (!logger_) {
    auto created = std::make_shared<spdlog::logger>(name, sink());
    try {
      spdlog::initialize_logger(created);  // takes the global level and formatter
      logger_ = created;
    } catch (const spdlog::spdlog_ex&) {
      logger_ = spdlog::get(name);  // another thread registered it first
    }
  }
}

bool Logger::enabled(Level level) const {
  return logger_->should_log(to_spdlog(level));
}

void Logger::write(Level level, std::string_view message, std::span<const Field> fields) const {
  std::string payload = format_payload(g_format.load(std::memory_order_relaxed), message, fields);
  logger_->log(to_spdlog(level), std::string_view(payload));
}

}  // namespace eltrix::log
