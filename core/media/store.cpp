#include "media/store.h"

#include "log/log.h"

namespace eltrix::media {

namespace {
const log::Logger& logger() {
  static const log::Logger instance("media");
  return instance;
}
}  // namespace

/// The plugin's stream, read under the plugin's serialisation, with the bytes
/// counted as they go to the client.
class Store::CountingSource final : public plugin::ByteSource {
 public:
  CountingSource(Store& store, std::unique_ptr<plugin::ByteSource> inner)
      : store_(store), inner_(std::move(inner)) {}
  ~CountingSource() override {
    auto lock = store_.serialize_();
    inner_.reset();
  }
  CountingSource(const CountingSource&) = delete;
  CountingSource& operator=(const CountingSource&) = delete;
  CountingSource(CountingSource&&) = delete;
  CountingSource& operator=(CountingSource&&) = delete;

  std::size_t read(char* buffer, std::size_t capacity) override {
    std::size_t got = 0;
    {
      auto lock = store_.serialize_();
      got = inner_->read(buffer, capacity);
    }
    store_.downloaded_bytes_.inc(static_cast<double>(got));
    return got;
  }

 private:
  Store& store_;
  std::unique_ptr<plugin::ByteSource> inner_;
};

Store::Store(plugin::MediaStore& store, std::string name,
             std::function<std::unique_lock<std::mutex>()> serialize, metrics::Registry& metrics,
             std::uint16_t abi_minor)
    : store_(store),
      name_(std::move(name)),
      serialize_(std::move(serialize)),
      // A plugin built against older headers has no vtable slot for these:
      // calling them would jump into the void (DESIGN.md §3, version-gated calls).
      can_list_(abi_minor >= plugin::kMediaStoreListingSince),
      uploads_(metrics.counter("eltrix_media_uploads_total",
                               "Media files (uploads and thumbnails) stored, by media store.",
                               {{"store", name_}})),
      uploaded_bytes_(metrics.counter("eltrix_media_uploaded_bytes_total",
                                      "Bytes stored in the media store, by media store.",
                                      {{"store", name_}})),
      downloads_(metrics.counter("eltrix_media_downloads_total",
                                 "Media files (or ranges of them) opened for a client, by media "
                                 "store.",
                                 {{"store", name_}})),
      downloaded_bytes_(metrics.counter("eltrix_media_downloaded_bytes_total",
                                        "Bytes read from the media store for clients, by media "
                                        "store.",
                                        {{"store", name_}})),
      erase_failures_(metrics.counter(
          "eltrix_media_erase_failures_total",
          "Objects the media service could not remove while cleaning up after a failed upload "
          "(left for the operator; see the log), by media store.",
          {{"store", name_}})) {}

std::uint64_t Store::put(std::string_view key, plugin::ByteSource& source,
                         const plugin::PutOptions& options) {
  std::uint64_t size = 0;
  {
    auto lock = serialize_();
    size = store_.put(key, source, options);
  }
  uploads_.inc();
  uploaded_bytes_.inc(static_cast<double>(size));
  return size;
}

std::unique_ptr<plugin::ByteSource> Store::get(std::string_view key, std::uint64_t offset,
                                               std::optional<std::uint64_t> length) {
  std::unique_ptr<plugin::ByteSource> inner;
  {
    auto lock = serialize_();
    inner = store_.get(key, offset, length);
  }
  if (!inner) return nullptr;
  downloads_.inc();
  return std::make_unique<CountingSource>(*this, std::move(inner));
}

void Store::erase_quietly(std::string_view key) noexcept {
  try {
    auto lock = serialize_();
    store_.erase(key);
  } catch (const std::exception& e) {
    erase_failures_.inc();
    logger().error("cannot remove media object",
                   {{"store", name_}, {"key", std::string(key)}, {"error", e.what()}});
  } catch (...) {
    erase_failures_.inc();
    logger().error("cannot remove media object",
                   {{"store", name_}, {"key", std::string(key)}, {"error", "unknown exception"}});
  }
}

plugin::ObjectPage Store::list(std::string_view cursor, std::size_t limit) {
  if (!can_list_) return {};
  auto lock = serialize_();
  return store_.list(cursor, limit);
}

std::size_t Store::remove_abandoned_uploads(std::chrono::seconds older_than) {
  if (!can_list_) return 0;
  auto lock = serialize_();
  return store_.remove_abandoned_uploads(older_than);
}

bool Store::erase(std::string_view key) {
  auto lock = serialize_();
  return store_.erase(key);
}

}  // namespace eltrix::media
