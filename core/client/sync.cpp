#include "client/sync.h"

#include "client/auth.h"
#include "client/json_body.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "errors/error.h"
#include "http/deferred.h"
#include "log/log.h"
#include "notify/notifier.h"
#include "services/presence.h"
#include "services/typing.h"
#include "storage/database.h"
#include "storage/stream.h"
#include "sync/sync_builder.h"

#include <charconv>
#include <mutex>

namespace eltrix::client {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("sync");
  return instance;
}

/// A parked sync: waits on the notifier, rebuilds when woken, answers when
/// there is something to say or the timeout passes.
class WaitingSync final : public http::Deferred, public std::enable_shared_from_this<WaitingSync> {
 public:
  WaitingSync(Context& ctx, std::shared_ptr<const sync::SyncBuilder> builder,
              sync::SyncRequest request, sync::SyncResult first,
              std::chrono::steady_clock::time_point deadline)
      : ctx_(ctx),
        builder_(std::move(builder)),
        request_(std::move(request)),
        last_(std::move(first)),
        deadline_(deadline) {}

  void start(std::function<void(http::Response)> complete) override {
    sync::SyncToken built;
    {
      std::lock_guard lock(mutex_);
      complete_ = std::move(complete);
      wait_locked();
      if (done_) return;
      built = last_.next;
    }
    // Something committed between building the first result and registering
    // the waiter woke nobody: if the stream moved meanwhile, rebuild now.
    bool moved = false;
    try {
      moved = stream_moved(built);
    } catch (const std::exception&) {
      // The database is unreachable: the next wake-up or the timeout answers.
    }
    if (!moved) return;
    std::unique_lock lock(mutex_);
    if (done_ || waiter_ == 0 || !ctx_.notifier.cancel(waiter_)) return;
    waiter_ = 0;
    lock.unlock();
    woken(false);
  }

  void cancel() override {
    std::unique_lock lock(mutex_);
    if (done_) return;
    if (waiter_ != 0 && ctx_.notifier.cancel(waiter_)) {
      waiter_ = 0;
      finish_locked(lock, http::Response::json(200, last_.body));
    }
    // Otherwise the callback is running (or about to) and will answer.
  }

 private:
  bool stream_moved(const sync::SyncToken& built) {
    storage::ReadScope scope(request_.who.user_id, ctx_.db.latest_position());
    const auto position =
        ctx_.db.read([](storage::Transaction& tx) { return storage::current_stream(tx); });
    return position > built.stream || ctx_.typing.serial() > built.typing;
  }

  void wait_locked() {
    auto self = shared_from_this();
    // The position lets the database recheck skip this waiter for changes
    // its answer already includes.
    waiter_ = ctx_.notifier.wait(
        last_.wake_keys, deadline_, [self](bool timed_out) { self->woken(timed_out); },
        last_.next.stream, request_.who.user_id);
    if (waiter_ == 0) {
      // At capacity (sync.max_waiting): answer now, the client syncs again.
      done_ = true;
      complete_(http::Response::json(200, last_.body));
    }
  }

  void woken(bool timed_out) {
    std::unique_lock lock(mutex_);
    waiter_ = 0;
    if (done_) return;
    if (timed_out || std::chrono::steady_clock::now() >= deadline_) {
      finish_locked(lock, http::Response::json(200, last_.body));
      return;
    }
    lock.unlock();
    std::optional<sync::SyncResult> result;
    std::optional<http::Response> failure;
    // Woken by a write through this node: the rebuild must see it, so its
    // reads need the latest position this node has seen a commit reach
    // (a replica that has not replayed it is skipped). The user has then been
    // shown everything up to there, and their next reads need it too.
    const std::uint64_t seen = ctx_.db.latest_position();
    try {
      storage::ReadScope scope(request_.who.user_id, seen);
      result = builder_->build(request_);
      if (!result->empty) ctx_.db.advance_user(request_.who.user_id, seen);
    } catch (const http::MatrixError& e) {
      failure = http::Response::error(e);
    } catch (const errors::Error& e) {
      // A stored filter that went bad, or the database going away (503).
      logger().warn("sync rebuild failed",
                    {{"user_id", request_.who.user_id}, {"error", e.what()}});
      failure = http::Response::error(e);
    } catch (const std::exception& e) {
      logger().warn("sync rebuild failed",
                    {{"user_id", request_.who.user_id}, {"error", e.what()}});
      failure = http::Response::error(
          http::MatrixError(500, "M_UNKNOWN", "Internal error while syncing"));
    }
    lock.lock();
    if (done_) return;
    if (failure) {
      finish_locked(lock, std::move(*failure));
      return;
    }
    last_ = std::move(*result);
    if (!last_.empty) {
      finish_locked(lock, http::Response::json(200, last_.body));
      return;
    }
    // Woken for something this user does not see (e.g. a filtered type):
    // keep waiting, on the possibly changed set of rooms.
    wait_locked();
  }

  void finish_locked(std::unique_lock<std::mutex>& lock, http::Response response) {
    done_ = true;
    auto complete = std::move(complete_);
    lock.unlock();
    complete(std::move(response));
  }

  Context& ctx_;
  std::shared_ptr<const sync::SyncBuilder> builder_;
  sync::SyncRequest request_;
  sync::SyncResult last_;
  std::chrono::steady_clock::time_point deadline_;
  std::mutex mutex_;
  std::function<void(http::Response)> complete_;
  std::uint64_t waiter_ = 0;
  bool done_ = false;
};

std::int64_t timeout_param(const http::Request& req, std::int64_t max) {
  auto text = req.query("timeout");
  if (!text) return 0;
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < 0) {
    throw invalid_param("'timeout' must be a non-negative integer (milliseconds)");
  }
  return std::min(value, max);
}

http::Response sync_handler(Context& ctx, const std::shared_ptr<const sync::SyncBuilder>& builder,
                            http::Request& req) {
  const Requester& who = req.requester();
  sync::SyncRequest request{.who = {who.user_id, who.device_id}};
  if (auto since = req.query("since")) {
    request.since = sync::parse_sync_token(*since);
    if (!request.since) throw invalid_param("'since' is not a sync token from this server");
  }
  if (auto full = req.query("full_state")) request.full_state = *full == "true";
  if (auto filter = sync::load_filter(ctx.db, who.user_id, req.query("filter"))) {
    request.filter = std::move(*filter);
  }
  const auto set_presence = req.query("set_presence").value_or("online");
  if (set_presence != "online" && set_presence != "offline" && set_presence != "unavailable") {
    throw invalid_param("'set_presence' must be online, offline or unavailable");
  }
  ctx.presence.set_from_sync(who.user_id, set_presence);

  const std::int64_t timeout =
      timeout_param(req, ctx.config.get_int(config::keys::kSyncMaxTimeout, 60000));
  auto result = builder->build(request);
  if (!result.empty || timeout == 0 || !request.since || request.full_state) {
    return http::Response::json(200, result.body);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
  return http::Response::deferred(
      std::make_shared<WaitingSync>(ctx, builder, std::move(request), std::move(result), deadline));
}

}  // namespace

void add_sync_routes(http::Router& router, Context& ctx) {
  // The sync builder and its providers, once: they reach the services only
  // through what sync/ declares it needs.
  auto builder = std::make_shared<const sync::SyncBuilder>(sync::SyncDeps{
      .db = ctx.db, .typing = ctx.typing, .max_events_scanned = ctx.max_events_scanned});
  router.add("GET", "/_matrix/client/v3/sync",
             [&ctx, builder](http::Request& req) { return sync_handler(ctx, builder, req); });
}

}  // namespace eltrix::client
