#include "client/user_restrictions.h"

#include "client/rate_limit.h"
#include "crypto/tokens.h"
#include "storage/admin_users.h"
#include "storage/database.h"

#include <nlohmann/json.hpp>

namespace eltrix::client {
namespace {

UserRestrictions decode(const std::string& text) {
  UserRestrictions out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  out.shadow_banned = j.value("sb", false);
  if (auto o = j.find("o"); o != j.end() && o->is_array() && o->size() == 2) {
    const auto mps = (*o)[0].get<std::int64_t>();
    const auto burst = (*o)[1].get<std::int64_t>();
    if (mps == 0 && burst == 0) {
      out.send_unlimited = true;
    } else {
      out.send_limit = std::pair(mps * 60, burst);
    }
  }
  return out;
}

}  // namespace

UserRestrictions restrictions_of(Context& ctx, const std::string& user_id) {
  const std::string key = storage::user_restrictions_cache_key(user_id);
  try {
    if (auto cached = ctx.cache.get(key)) return decode(*cached);
  } catch (...) {
    // A failing cache reads the database.
  }
  nlohmann::json value = nlohmann::json::object();
  // The primary: a replica could still show the state before the admin's
  // change, which would then be cached for kRestrictionsTtl. Once a minute
  // per sending user at most.
  ctx.db.write([&](storage::Transaction& tx) {
    auto user = storage::find_admin_user(tx, user_id);
    value["sb"] = user && user->shadow_banned;
    if (auto o = storage::find_ratelimit_override(tx, user_id)) {
      value["o"] = {o->messages_per_second, o->burst_count};
    }
  });
  const std::string text = value.dump();
  try {
    ctx.cache.set(key, text, kRestrictionsTtl);
  } catch (...) {
  }
  return decode(text);
}

void check_send_limit(Context& ctx, const std::string& user_id,
                      const UserRestrictions& restrictions) {
  if (restrictions.send_unlimited) return;
  if (restrictions.send_limit) {
    ctx.rate_limiter.check_with(RateLimitedAction::send, user_id, restrictions.send_limit->first,
                                restrictions.send_limit->second);
    return;
  }
  ctx.rate_limiter.check(RateLimitedAction::send, user_id);
}

std::string fake_event_id() {
  return "$" + crypto::random_string(
                   43, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}

}  // namespace eltrix::client
