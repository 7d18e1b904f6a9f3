#include "media/byte_range.h"

#include <charconv>

namespace eltrix::media {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Digits only (no sign, no spaces), no overflow.
std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

RangeRequest parse_range(std::optional<std::string_view> header, std::uint64_t size) {
  RangeRequest whole;
  if (!header) return whole;
  std::string_view value = trim(*header);
  constexpr std::string_view kUnit = "bytes=";
  if (value.size() < kUnit.size()) return whole;
  for (std::size_t i = 0; i < kUnit.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kUnit[i]) return whole;
  }
  value = trim(value.substr(kUnit.size()));
  if (value.find(',') != std::string_view::npos) return whole;  // several ranges: send all
  const auto dash = value.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view first_text = trim(value.substr(0, dash));
  const std::string_view last_text = trim(value.substr(dash + 1));

  RangeRequest out;
  out.kind = RangeRequest::Kind::partial;
  if (first_text.empty()) {
    // Suffix: the last n bytes.
    auto n = parse_number(last_text);
    if (!n) return whole;
    if (*n == 0 || size == 0) return {RangeRequest::Kind::unsatisfiable, {}};
    const std::uint64_t length = std::min(*n, size);
    out.range = {size - length, length};
    return out;
  }
  auto first = parse_number(first_text);
  if (!first) return whole;
  std::optional<std::uint64_t> last;
  if (!last_text.empty()) {
    last = parse_number(last_text);
    if (!last || *last < *first) return whole;  // invalid: ignored per RFC 9110 §14.2
  }
  if (*first >= size) return {RangeRequest::Kind::unsatisfiable, {}};
  const std::uint64_t end = last ? std::min(*last, size - 1) : size - 1;
  out.range = {*first, end - *first + 1};
  return out;
}

std::string content_range(const ByteRange& range, std::uint64_t size) {
  return "bytes " + std::to_string(range.offset) + "-" +
         std::to_string(range.offset + range.length - 1) + "/" + std::to_string(size);
}

}  // namespace eltrix::media
