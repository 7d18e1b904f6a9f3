// The configured media-store plugin as the media service sees it: every call
// serialised when the plugin is not thread-safe, plus the per-store traffic
// metrics (eltrix_media_{uploads,downloads}_total and
// eltrix_media_{uploaded,downloaded}_bytes_total, labelled store=<plugin>).
// Only the plugin::MediaStore interface is used, so fs, s3 and test fakes
// behave the same here.
#pragma once

#include "metrics/registry.h"

#include <eltrix/plugin/media_store.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace eltrix::media {

class Store {
 public:
  /// `serialize` returns a held lock for plugins that are not thread-safe (an
  /// empty lock otherwise); see plugins::Instance::serialize. `store` must
  /// outlive this object and every stream it hands out.
  /// `abi_minor`: the plugin's (PluginInfo::abi_minor), which says whether
  /// it has the ABI 1.1 methods (list, remove_abandoned_uploads).
  Store(plugin::MediaStore& store, std::string name,
        std::function<std::unique_lock<std::mutex>()> serialize, metrics::Registry& metrics,
        std::uint16_t abi_minor);

  [[nodiscard]] const std::string& name() const { return name_; }

  /// plugin put(); on success counts one upload and its bytes. Exceptions
  /// (plugin::Error, or whatever `source` threw) propagate.
  std::uint64_t put(std::string_view key, plugin::ByteSource& source,
                    const plugin::PutOptions& options);
  /// plugin get(); nullptr when the object is missing. Counts one download;
  /// bytes are counted as the returned stream is read.
  std::unique_ptr<plugin::ByteSource> get(std::string_view key, std::uint64_t offset,
                                          std::optional<std::uint64_t> length);
  /// plugin erase(), for cleaning up: failures are logged and swallowed.
  void erase_quietly(std::string_view key) noexcept;

  /// Whether the plugin can list its objects and remove abandoned uploads
  /// (built for plugin ABI 1.1 or later). Older plugins are never asked.
  [[nodiscard]] bool can_list() const { return can_list_; }
  /// plugin list(); an empty last page when !can_list(). Throws what the
  /// plugin throws.
  plugin::ObjectPage list(std::string_view cursor, std::size_t limit);
  /// plugin remove_abandoned_uploads(); 0 when !can_list(). Throws what the
  /// plugin throws.
  std::size_t remove_abandoned_uploads(std::chrono::seconds older_than);
  /// plugin erase(); throws what the plugin throws.
  bool erase(std::string_view key);

 private:
  class CountingSource;
  plugin::MediaStore& store_;
  std::string name_;
  std::function<std::unique_lock<std::mutex>()> serialize_;
  bool can_list_ = false;
  metrics::Counter& uploads_;
  metrics::Counter& uploaded_bytes_;
  metrics::Counter& downloads_;
  metrics::Counter& downloaded_bytes_;
  metrics::Counter& erase_failures_;
};

}  // namespace eltrix::media
