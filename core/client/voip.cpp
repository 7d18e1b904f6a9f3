#include "client/voip.h"

#include "client/auth.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "crypto/secret.h"
#include "matrix/base64.h"
#include "storage/accounts.h"

#include <string_view>

namespace eltrix::client {

namespace {

namespace keys = config::keys;

/// The comma-separated URIs of turn.uris, trimmed, empty ones dropped.
nlohmann::json turn_uris(const std::string& text) {
  nlohmann::json out = nlohmann::json::array();
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string_view item(text.data() + start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.push_back(std::string(item));
    start = comma + 1;
  }
  return out;
}

/// Standard base64 with padding: what coturn compares the password against.
std::string padded_base64(std::string_view bytes) {
  std::string out = matrix::encode_base64_unpadded(bytes);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::string hex_to_bytes(std::string_view hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

http::Response turn_server(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const nlohmann::json uris = turn_uris(ctx.config.get_string(keys::kTurnUris));
  const std::string secret = ctx.config.get_string(keys::kTurnSharedSecret);
  // Without a TURN server, or without a way to give credentials for it,
  // Synapse answers 200 {}: clients then call without a relay.
  if (uris.empty() || secret.empty()) {
    return http::Response::json(200, nlohmann::json::object());
  }
  const std::int64_t ttl = ctx.config.get_int(keys::kTurnTtl, 3600);
  const std::int64_t expiry = storage::now_ms() / 1000 + ttl;
  const std::string username = std::to_string(expiry) + ":" + who.user_id;
  const std::string password = padded_base64(hex_to_bytes(crypto::hmac_sha1_hex(secret, username)));
  return http::Response::json(
      200,
      nlohmann::json{{"username", username}, {"password", password}, {"uris", uris}, {"ttl", ttl}});
}

}  // namespace

void add_voip_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/voip/turnServer",
             [&ctx](http::Request& req) { return turn_server(ctx, req); });
}

}  // namespace eltrix::client
