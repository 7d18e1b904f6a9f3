// The device service (accounts/device_service.h) over PostgreSQL and the
// token cache.
#pragma once

#include "accounts/device_service.h"

#include <eltrix/plugin/cache.h>

namespace eltrix::config {
class Config;
}
namespace eltrix::storage {
class Database;
}

namespace eltrix::accounts {

class DeviceServiceImpl final : public DeviceService {
 public:
  /// `cache`: the node's (guarded) cache plugin, where token lookups are
  /// cached. All references must outlive the service.
  DeviceServiceImpl(const config::Config& config, storage::Database& db, plugin::Cache& cache);

  IssuedToken log_in(const NewLogin& login) override;
  std::vector<Device> list(const std::string& user_id) override;
  Device get(const std::string& user_id, const std::string& device_id) override;
  void rename(const std::string& user_id, const std::string& device_id,
              const std::optional<std::string>& display_name) override;
  std::size_t remove(const std::string& user_id,
                     const std::vector<std::string>& device_ids) override;
  std::size_t remove_all(const std::string& user_id,
                         const std::optional<std::string>& keep) override;

 private:
  const config::Config& config_;
  storage::Database& db_;
  plugin::Cache& cache_;
};

}  // namespace eltrix::accounts
