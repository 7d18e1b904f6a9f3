#include "cluster/messages.h"

#include <nlohmann/json.hpp>

namespace eltrix::cluster {

namespace {
/// Parses a JSON object; nullopt for anything else (never throws).
std::optional<nlohmann::json> parse_object(std::string_view payload) {
  auto value = nlohmann::json::parse(payload, nullptr, false);
  if (!value.is_object()) return std::nullopt;
  return value;
}
}  // namespace

std::string_view message_type_name(std::uint8_t type) {
  switch (type) {
    case static_cast<std::uint8_t>(MessageType::ping): return "ping";
    case static_cast<std::uint8_t>(MessageType::wake): return "wake";
    case static_cast<std::uint8_t>(MessageType::typing): return "typing";
    case static_cast<std::uint8_t>(MessageType::cache_invalidation): return "cache_invalidation";
    default: return "unknown";
  }
}

std::string encode_wake(const std::vector<std::string>& keys) {
  return nlohmann::json{{"k", keys}}.dump();
}

std::optional<std::vector<std::string>> decode_wake(std::string_view payload) {
  auto value = parse_object(payload);
  if (!value) return std::nullopt;
  auto k = value->find("k");
  if (k == value->end() || !k->is_array()) return std::nullopt;
  std::vector<std::string> keys;
  keys.reserve(k->size());
  for (const auto& key : *k) {
    if (!key.is_string()) return std::nullopt;
    keys.push_back(key.get<std::string>());
  }
  return keys;
}

std::string encode_typing(const TypingChange& change) {
  return nlohmann::json{{"r", change.room_id},
                        {"u", change.user_id},
                        {"t", change.typing},
                        {"ms", change.timeout.count()}}
      .dump();
}

std::optional<TypingChange> decode_typing(std::string_view payload) {
  auto value = parse_object(payload);
  if (!value) return std::nullopt;
  auto r = value->find("r");
  auto u = value->find("u");
  auto t = value->find("t");
  auto ms = value->find("ms");
  if (r == value->end() || !r->is_string() || u == value->end() || !u->is_string() ||
      t == value->end() || !t->is_boolean() || ms == value->end() || !ms->is_number_integer()) {
    return std::nullopt;
  }
  return TypingChange{.room_id = r->get<std::string>(),
                      .user_id = u->get<std::string>(),
                      .typing = t->get<bool>(),
                      .timeout = std::chrono::milliseconds(ms->get<std::int64_t>())};
}

std::string encode_invalidation(const CacheInvalidation& invalidation) {
  nlohmann::json value{{"k", invalidation.key}, {"ttl", invalidation.ttl.count()}};
  if (invalidation.tombstone) value["v"] = *invalidation.tombstone;
  return value.dump();
}

std::optional<CacheInvalidation> decode_invalidation(std::string_view payload) {
  auto value = parse_object(payload);
  if (!value) return std::nullopt;
  auto k = value->find("k");
  auto ttl = value->find("ttl");
  if (k == value->end() || !k->is_string() || ttl == value->end() || !ttl->is_number_integer()) {
    return std::nullopt;
  }
  CacheInvalidation out{.key = k->get<std::string>(),
                        .tombstone = std::nullopt,
                        .ttl = std::chrono::seconds(ttl->get<std::int64_t>())};
  if (auto v = value->find("v"); v != value->end()) {
    if (!v->is_string()) return std::nullopt;
    out.tombstone = v->get<std::string>();
  }
  return out;
}

}  // namespace eltrix::cluster
