// Fuzz target: the router's request-target decoding (http/router.h):
// split_path, percent_decode, parse_query, and Router::match with the shapes
// of the Client-Server API's route table.
//
// Input: an HTTP request line's method and target, "METHOD /path?query"
// (when there is no space, the whole input is the target and the method GET).
// Properties:
//  - decoding never crashes; a decoded path or query never holds a NUL byte;
//  - the decoded path is "/" + the segments joined by "/", one segment per
//    '/' of the raw path (so "%2F" never splits a segment);
//  - percent-encoding a decoded segment and decoding it again gives it back;
//  - a matched route's parameters are the (non-empty) segments at their
//    positions, and the route's pattern has as many segments as the path;
//  - no route means no parameters; Allow is set exactly when the path is known.
#include "fuzz_check.h"
#include "http/router.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using eltrix::fuzz::as_text;
namespace http = eltrix::http;

// The shapes of the real table (core/client/*.cpp): literals and parameters
// at every depth, literals that shadow parameters, trailing "/" patterns, a
// parameter as the last segment, and the r0 copies.
constexpr std::array<std::string_view, 30> kPatterns = {
    "/_matrix/client/versions",
    "/_matrix/client/v3/login",
    "/_matrix/client/v3/logout/all",
    "/_matrix/client/v3/sync",
    "/_matrix/client/v3/devices/{deviceId}",
    "/_matrix/client/v3/join/{roomIdOrAlias}",
    "/_matrix/client/v3/profile/{userId}",
    "/_matrix/client/v3/profile/{userId}/displayname",
    "/_matrix/client/v3/directory/room/{roomAlias}",
    "/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}",
    "/_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}",
    "/_matrix/client/v3/rooms/{roomId}/state",
    "/_matrix/client/v3/rooms/{roomId}/state/{eventType}",
    "/_matrix/client/v3/rooms/{roomId}/state/{eventType}/",
    "/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}",
    "/_matrix/client/v3/rooms/{roomId}/messages",
    "/_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}",
    "/_matrix/client/v3/user/{userId}/filter",
    "/_matrix/client/v3/user/{userId}/filter/{filterId}",
    "/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}",
    "/_matrix/client/v3/pushrules/",
    "/_matrix/client/v3/pushrules/global/",
    "/_matrix/client/v3/pushrules/{scope}/{kind}/{ruleId}",
    "/_matrix/client/v3/pushrules/{scope}/{kind}/{ruleId}/enabled",
    "/_matrix/client/r0/rooms/{roomId}/send/{eventType}/{txnId}",
    "/_matrix/client/v1/media/download/{serverName}/{mediaId}",
    "/_matrix/client/v1/media/download/{serverName}/{mediaId}/{fileName}",
    "/_matrix/media/v3/upload",
    "/_matrix/media/v3/upload/{serverName}/{mediaId}",
    "/health/ready",
};

const http::Router& router() {
  static const http::Router table = [] {
    http::Router r;
    const auto handler = [](http::Request&) { return http::Response::json_text(200, "{}"); };
    for (const auto pattern : kPatterns) {
      r.add("GET", std::string(pattern), handler);
      r.add("PUT", std::string(pattern), handler);
    }
    r.add("POST", "/_matrix/client/v3/login", handler);
    r.add("DELETE", "/_matrix/client/v3/devices/{deviceId}", handler);
    return r;
  }();
  return table;
}

std::size_t count_segments(std::string_view pattern) {
  std::size_t n = 0;
  for (const char c : pattern) n += c == '/' ? 1 : 0;
  return n;
}

std::string percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : in) {
    const auto u = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[u >> 4U];
    out += kHex[u & 0xFU];
  }
  return out;
}

void check_path(std::string_view method, std::string_view raw_path) {
  std::vector<std::string> segments;
  std::string decoded;
  if (!http::split_path(raw_path, segments, decoded)) return;
  FUZZ_CHECK(!raw_path.empty() && raw_path.front() == '/');
  FUZZ_CHECK(segments.size() == count_segments(raw_path));
  std::string joined;
  for (const auto& segment : segments) {
    FUZZ_CHECK(segment.find('\0') == std::string::npos);
    joined += '/';
    joined += segment;
    std::string back;
    FUZZ_CHECK(http::percent_decode(percent_encode(segment), back, false));
    FUZZ_CHECK(back == segment);
  }
  FUZZ_CHECK(joined == decoded);

  const auto match = router().match(method, segments);
  if (match.route == nullptr) {
    FUZZ_CHECK(match.params.empty());
    FUZZ_CHECK(match.path_known == !match.allow.empty());
    return;
  }
  FUZZ_CHECK(match.path_known);
  FUZZ_CHECK(count_segments(match.route->pattern) == segments.size());
  FUZZ_CHECK(match.params.size() == match.route->params.size());
  for (std::size_t i = 0; i < match.params.size(); ++i) {
    const auto& [index, name] = match.route->params[i];
    FUZZ_CHECK(match.params[i].first == name);
    FUZZ_CHECK(index < segments.size());
    FUZZ_CHECK(match.params[i].second == segments[index]);
    FUZZ_CHECK(!match.params[i].second.empty());
  }
}

void check_query(std::string_view raw_query) {
  http::Request::Pairs pairs;
  if (!http::parse_query(raw_query, pairs)) return;
  std::size_t parts = 0;
  for (const auto& [key, value] : pairs) {
    FUZZ_CHECK(key.find('\0') == std::string::npos);
    FUZZ_CHECK(value.find('\0') == std::string::npos);
    ++parts;
  }
  // At most one pair per '&'-separated part.
  std::size_t ampersands = 0;
  for (const char c : raw_query) ampersands += c == '&' ? 1 : 0;
  FUZZ_CHECK(parts <= ampersands + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = as_text(data, size);
  std::string_view method = "GET";
  if (const auto space = text.find(' '); space != std::string_view::npos) {
    method = text.substr(0, space);
    text.remove_prefix(space + 1);
  }
  const auto question = text.find('?');
  check_path(method, text.substr(0, question));
  if (question != std::string_view::npos) check_query(text.substr(question + 1));
  return 0;
}
