// Fuzz target: the JSON request-body reader (http::parse_json, as the server
// runs it for BodyMode::json routes and the inline ?filter= parameter) and the
// typed field reads of client/json_body.h that handlers make on the result.
//
// Input: a request body, any bytes.
// Properties:
//  - parse_json never crashes, and what it accepts nests at most kMaxJsonDepth;
//  - it refuses only what nlohmann refuses, what nests too deeply, or what
//    holds a raw NUL byte (which nlohmann would take for the end);
//  - the parsed value serialises and parses back to an equal value;
//  - every typed read answers with its value or a 400 M_BAD_JSON /
//    M_MISSING_PARAM, never another exception;
//  - a response echoing the body is always produced (no throw on any content).
#include "client/json_body.h"
#include "fuzz_check.h"
#include "http/body.h"
#include "http/router.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using eltrix::fuzz::as_text;
using nlohmann::json;

/// Nesting depth (a scalar is 0, "[]" is 1). Iterative: with a large
/// -max_len the unguarded parse below can nest far deeper than the stack.
int depth_of(const json& value) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> pending{{&value, 0}};
  while (!pending.empty()) {
    const auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const auto& child : *node) pending.emplace_back(&child, depth + 1);
  }
  return deepest;
}

template <typename Read>
void typed_read(Read&& read) {
  try {
    read();
  } catch (const eltrix::http::MatrixError& e) {
    FUZZ_CHECK(e.status() == 400);
    FUZZ_CHECK(e.errcode() == "M_BAD_JSON" || e.errcode() == "M_MISSING_PARAM");
  }
}

// Field names real handlers read (login, register, createRoom, send, ...),
// plus whatever keys the body itself has (below).
constexpr std::array<std::string_view, 12> kFields = {
    "type",   "user",   "password", "device_id", "initial_device_display_name",
    "limit",  "auth",   "content",  "invite",    "room_alias_name",
    "reason", "timeout"};

void read_field(const json& body, std::string_view field) {
  namespace client = eltrix::client;
  typed_read([&] { (void)client::require_string(body, field); });
  typed_read([&] { (void)client::optional_string(body, field); });
  typed_read([&] { (void)client::optional_bool(body, field); });
  typed_read([&] { (void)client::optional_int(body, field); });
  typed_read([&] { (void)client::optional_object(body, field); });
  typed_read([&] { (void)client::optional_array(body, field); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(as_text(data, size));
  json body;
  const bool accepted = eltrix::http::parse_json(text, body);

  // The depth guard and the NUL refusal are all parse_json adds to
  // nlohmann's parser.
  const bool has_nul = text.find('\0') != std::string::npos;
  json unguarded = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!accepted) {
    FUZZ_CHECK(has_nul || unguarded.is_discarded() ||
               depth_of(unguarded) > eltrix::http::kMaxJsonDepth);
    return 0;
  }
  FUZZ_CHECK(!has_nul);
  FUZZ_CHECK(!body.is_discarded());
  FUZZ_CHECK(body == unguarded);
  FUZZ_CHECK(depth_of(body) <= eltrix::http::kMaxJsonDepth);

  // nlohmann checked the UTF-8 of every string, so dumping cannot throw.
  const std::string dumped = body.dump();
  json again;
  FUZZ_CHECK(eltrix::http::parse_json(dumped, again));
  FUZZ_CHECK(again == body);

  // The server answers 400 M_BAD_JSON for a non-object, then handlers read.
  if (body.is_object()) {
    for (auto field : kFields) read_field(body, field);
    for (const auto& [key, value] : body.items()) read_field(body, key);
  }
  // Handlers echo client values in responses (errors, /filter, account data).
  const auto response = eltrix::http::Response::json(200, body);
  FUZZ_CHECK(!response.body.empty());
  return 0;
}
