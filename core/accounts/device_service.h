// The devices of local accounts and their access tokens (spec: "Device
// management", and the device half of "Login"): logging a device in, listing,
// renaming and deleting devices. Deleting a device removes its access tokens,
// from the database and from the token cache (accounts/token_cache.h), so
// that the removal takes effect at once on every node. Shared by every API
// (services/services.h); failures are errors::Error.
#pragma once

#include "storage/accounts.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::accounts {

using Device = storage::Device;

/// Longest device display name, in bytes.
inline constexpr std::size_t kMaxDeviceNameBytes = 512;

/// A device logging in.
struct NewLogin {
  std::string user_id;
  std::optional<std::string> device_id = std::nullopt;  ///< none: a new random ID
  /// Used only when the device is created by this login.
  std::optional<std::string> display_name = std::nullopt;
  std::optional<std::string> ip = std::nullopt;
};

/// A new login's credentials.
struct IssuedToken {
  std::string access_token;
  std::string device_id;
  /// Set when auth.session_lifetime is not 0.
  std::optional<std::int64_t> expires_in_ms;
};

class DeviceService {
 public:
  virtual ~DeviceService() = default;

  /// Logs `login.user_id` in on `login.device_id`: creates the device if
  /// needed, revokes the device's earlier tokens and stores a new one whose
  /// lifetime is auth.session_lifetime. Does not check that the user exists
  /// or may log in (the account service does).
  virtual IssuedToken log_in(const NewLogin& login) = 0;

  /// The user's devices. Read on the primary: a client reads the list back
  /// right after renaming or deleting a device.
  virtual std::vector<Device> list(const std::string& user_id) = 0;

  /// One of the user's devices; not_found "Unknown device" when it has none
  /// such.
  virtual Device get(const std::string& user_id, const std::string& device_id) = 0;

  /// Renames the device; no `display_name` leaves the name as it is. Throws
  /// invalid M_INVALID_PARAM for a name over kMaxDeviceNameBytes, not_found
  /// for an unknown device (also without a name).
  virtual void rename(const std::string& user_id, const std::string& device_id,
                      const std::optional<std::string>& display_name) = 0;

  /// Deletes the devices with their access tokens (unknown IDs are skipped:
  /// the spec treats them as removed earlier). Returns how many tokens went.
  virtual std::size_t remove(const std::string& user_id,
                             const std::vector<std::string>& device_ids) = 0;

  /// Deletes every device of the user but `keep` (if given), with their
  /// tokens. Returns how many tokens went.
  virtual std::size_t remove_all(const std::string& user_id,
                                 const std::optional<std::string>& keep = std::nullopt) = 0;
};

}  // namespace eltrix::accounts
