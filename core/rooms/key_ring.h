// The public keys of other servers that remote events are checked against
// (rooms/event_check.h). Federation fills it from the key servers; until
// then it holds what it is given (tests, and this server's own key).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace eltrix::rooms {

/// A server's public key, and when it stopped being valid if it did (the key
/// server's old_verify_keys): a signature by it only counts on events sent
/// before then, so a leaked key that was rotated out forges nothing newer.
struct PublicKey {
  std::string base64;
  std::optional<std::int64_t> expired_ts;
};

class KeyRing {
 public:
  void add(const std::string& server, const std::string& key_id, std::string public_key_base64,
           std::optional<std::int64_t> expired_ts = std::nullopt) {
    std::lock_guard lock(mutex_);
    keys_[{server, key_id}] = {std::move(public_key_base64), expired_ts};
  }
  [[nodiscard]] std::optional<PublicKey> find(const std::string& server,
                                              const std::string& key_id) const {
    std::lock_guard lock(mutex_);
    auto it = keys_.find({server, key_id});
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, PublicKey> keys_;
};

}  // namespace eltrix::rooms
