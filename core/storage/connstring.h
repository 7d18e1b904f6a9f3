// Connection strings: parsing, redaction and the options the core adds.
//
// Pure functions (no I/O), unit-tested in tests/unit/storage/.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eltrix::storage {

using ConnParams = std::vector<std::pair<std::string, std::string>>;

/// Replaces every password in a postgresql:// URL or keyword/value string with
/// "***" so the result can be logged or put in an error message. Works on
/// strings libpq would reject, too.
std::string redact_conninfo(std::string_view conninfo);

/// Parses a postgresql:// (or postgres://) URL or a keyword/value string with
/// libpq's own parser. Only keywords present in the input are returned, in
/// libpq's order. Throws StorageError(config) (with a redacted message) when
/// libpq rejects it.
ConnParams parse_conninfo(std::string_view conninfo);

/// Renders parameters as a keyword/value string, quoting values as libpq expects.
std::string to_keyword_value(const ConnParams& params);

/// Value of `key`, if present.
std::optional<std::string> find_param(const ConnParams& params, std::string_view key);
/// Sets `key` (replacing an existing value).
void set_param(ConnParams& params, std::string_view key, std::string value);

/// The string the core hands to libpq: `conninfo` parsed and rendered as
/// keyword/value, with connect_timeout added when absent (whole seconds, at
/// least 2 as libpq requires) and, when `force_connect_timeout`, replaced.
std::string build_connection_string(std::string_view conninfo, std::chrono::seconds connect_timeout,
                                    bool force_connect_timeout = false);

/// `conninfo` pointing at another database (keyword/value result).
std::string with_database(std::string_view conninfo, std::string_view dbname);

/// Parses a PostgreSQL LSN ("16/B374D848") into a 64-bit position.
std::optional<std::uint64_t> parse_lsn(std::string_view text);

}  // namespace eltrix::storage
