#include "receipts/receipt_service_impl.h"

#include "errors/error.h"
#include "log/log.h"
#include "notify/notifier.h"
#include "storage/database.h"
#include "storage/directory.h"
#include "storage/user_data.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

namespace eltrix::receipts {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("receipts");
  return instance;
}

errors::Error invalid_param(const std::string& message) {
  return errors::invalid("M_INVALID_PARAM", message);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The stream position of the event the stored m.fully_read points at (0
/// when there is none or it no longer resolves).
std::int64_t fully_read_stream(storage::Transaction& tx, const std::string& user_id,
                               const std::string& room_id) {
  auto stored = storage::get_account_data(tx, user_id, room_id, "m.fully_read");
  if (!stored) return 0;
  auto content = nlohmann::json::parse(*stored, nullptr, false);
  if (!content.is_object() || !content.contains("event_id") || !content["event_id"].is_string()) {
    return 0;
  }
  return storage::event_stream_in_room(tx, room_id, content["event_id"].get<std::string>())
      .value_or(0);
}

}  // namespace

void require_receipt_type(std::string_view type) {
  if (type != "m.read" && type != "m.read.private" && type != "m.fully_read") {
    throw invalid_param("The receipt type must be m.read, m.read.private or m.fully_read");
  }
}

ReceiptServiceImpl::ReceiptServiceImpl(storage::Database& db, notify::Notifier& notifier)
    : db_(db), notifier_(notifier) {}

bool ReceiptServiceImpl::is_joined(const std::string& room_id, const std::string& user_id) {
  auto check = [&](storage::Transaction& tx) {
    return storage::membership_of(tx, room_id, user_id) == std::optional<std::string>("join");
  };
  return db_.read(check) || db_.write(check);
}

void ReceiptServiceImpl::send_receipt(const std::string& user_id, const std::string& room_id,
                                      std::string_view type, const std::string& event_id,
                                      const std::optional<std::string>& thread_id) {
  require_receipt_type(type);
  ReadMarkers markers;
  if (thread_id) {
    if (type == "m.fully_read") throw invalid_param("thread_id cannot be used with m.fully_read");
    if (*thread_id != "main" && (thread_id->empty() || thread_id->front() != '$')) {
      throw invalid_param("thread_id must be \"main\" or a thread root's event ID");
    }
    markers.thread_id = thread_id;
  }
  if (type == "m.read") {
    markers.read = event_id;
  } else if (type == "m.read.private") {
    markers.read_private = event_id;
  } else {
    markers.fully_read = event_id;
  }
  set_read_markers(user_id, room_id, markers);
}

void ReceiptServiceImpl::set_read_markers(const std::string& user_id, const std::string& room_id,
                                          const ReadMarkers& markers) {
  if (!markers.fully_read && !markers.read && !markers.read_private) return;
  if (!is_joined(room_id, user_id)) throw errors::forbidden("You are not joined to this room");

  struct Woken {
    bool user = false;
    bool room = false;
  };
  auto woken = db_.write([&](storage::Transaction& tx) {
    Woken out;
    auto stream_of = [&](const std::string& event_id) {
      auto stream = storage::event_stream_in_room(tx, room_id, event_id);
      if (!stream) throw errors::not_found("Event " + event_id + " not found in this room");
      return *stream;
    };
    // Every event is resolved first, so a missing one changes nothing.
    std::optional<std::int64_t> fully_read_at;
    std::optional<std::int64_t> read_at;
    std::optional<std::int64_t> private_at;
    if (markers.fully_read) fully_read_at = stream_of(*markers.fully_read);
    if (markers.read) read_at = stream_of(*markers.read);
    if (markers.read_private) private_at = stream_of(*markers.read_private);
    // spec: a threaded receipt's event must be the thread's root or one of
    // its replies (event_relations, rooms/event_relations.h): 400 otherwise.
    if (markers.thread_id && *markers.thread_id != "main") {
      for (const auto* event : {&markers.read, &markers.read_private}) {
        if (!*event || **event == *markers.thread_id) continue;
        if (!tx.exec_optional("SELECT 1 FROM event_relations WHERE event_id = $1 "
                              "AND rel_type = 'm.thread' AND relates_to_id = $2",
                              **event, *markers.thread_id)) {
          throw invalid_param("Event " + **event + " is not in thread " + *markers.thread_id);
        }
      }
    }

    if (fully_read_at) {
      storage::lock_account_data(tx, user_id, room_id);
      if (*fully_read_at > fully_read_stream(tx, user_id, room_id)) {
        nlohmann::json content{{"event_id", *markers.fully_read}};
        storage::put_account_data(tx, user_id, room_id, "m.fully_read", content.dump());
        out.user = true;
      }
    }
    const std::int64_t ts = now_ms();
    const std::string thread = markers.thread_id.value_or("");
    if (read_at) {
      storage::Receipt receipt{room_id, user_id, "m.read", thread, *markers.read, ts, 0};
      if (storage::put_receipt(tx, receipt, *read_at)) out.room = true;
    }
    if (private_at) {
      storage::Receipt receipt{room_id, user_id, "m.read.private", thread, *markers.read_private,
                               ts,      0};
      if (storage::put_receipt(tx, receipt, *private_at)) out.user = true;
    }
    return out;
  });

  // After the commit: a sync woken earlier could read the old markers.
  std::vector<std::string> keys;
  if (woken.user) keys.push_back(notify::user_key(user_id));
  if (woken.room) keys.push_back(notify::room_key(room_id));
  if (keys.empty()) return;
  try {
    notifier_.notify(keys);
  } catch (const std::exception& e) {
    // A wake-up is a hint: a sync that misses it still sees the change at its
    // next database check.
    logger().warn("sync wake-up failed", {{"error", e.what()}});
  }
}

}  // namespace eltrix::receipts
