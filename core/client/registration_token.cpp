#include "client/registration_token.h"

#include "config/client_keys.h"
#include "config/config.h"
#include "crypto/secret.h"
#include "storage/accounts.h"
#include "storage/database.h"
#include "storage/registration_tokens.h"

namespace eltrix::client {
namespace {

/// Longest token looked up (the admin API issues at most 64 characters).
constexpr std::size_t kMaxTokenBytes = 64;

bool is_static_token(const Context& ctx, const std::string& token) {
  const std::string expected = ctx.config.get_string(config::keys::kRegistrationToken);
  // An empty configured token never matches: requiring a token without
  // setting one must not let everyone in.
  return !expected.empty() && crypto::secret_equal(token, expected);
}

}  // namespace

bool registration_token_valid(Context& ctx, const std::string& token) {
  if (is_static_token(ctx, token)) return true;
  if (token.empty() || token.size() > kMaxTokenBytes) return false;
  // The primary: a token created a moment ago may not be on a replica yet.
  return ctx.db.write([&](storage::Transaction& tx) {
    return storage::registration_token_usable(tx, token, storage::now_ms());
  });
}

bool spend_registration_token(Context& ctx, const std::string& token) {
  if (is_static_token(ctx, token)) return true;
  if (token.empty() || token.size() > kMaxTokenBytes) return false;
  return ctx.db.write([&](storage::Transaction& tx) {
    return storage::spend_registration_token(tx, token, storage::now_ms());
  });
}

void refund_registration_token(Context& ctx, const std::string& token) {
  if (is_static_token(ctx, token) || token.size() > kMaxTokenBytes) return;
  ctx.db.write([&](storage::Transaction& tx) { storage::refund_registration_token(tx, token); });
}

}  // namespace eltrix::client
