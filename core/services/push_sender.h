// The push sender (spec: Push Gateway API, POST /_matrix/push/v1/notify;
// docs/decisions.md D49): a loop that claims due rows of the push queue
// (filled by services/push_evaluation.h), POSTs each to its pusher's
// data.url with Poco's HTTP(S) client and a timeout, deletes the row on a
// 2xx, removes the pushers whose pushkeys the gateway rejects, and retries
// failures with an exponential backoff until a bound on attempts or age.
// It runs on a thread of its own, never on a request thread; every node may
// run one (rows are claimed SKIP LOCKED and leased).
#pragma once

#include "services/periodic_task.h"
#include "storage/database.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace eltrix::metrics {
class Registry;
class Counter;
}  // namespace eltrix::metrics

namespace eltrix::services {

struct PushSenderOptions {
  /// How often the loop looks for due pushes when it found none.
  std::chrono::milliseconds interval{500};
  /// Pushes claimed per round.
  std::size_t batch = 20;
  /// Connect, send and receive timeout of one POST.
  std::chrono::milliseconds timeout{10000};
  /// The first retry waits this long; each further one twice as long, up to
  /// retry_max.
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_max{std::chrono::minutes(10)};
  /// A push is given up after this many attempts, or once this old.
  int max_attempts = 12;
  std::chrono::milliseconds max_age{std::chrono::hours(24)};
};

class PushSender {
 public:
  PushSender(storage::Database& db, metrics::Registry& metrics, PushSenderOptions options = {});
  ~PushSender() = default;
  PushSender(const PushSender&) = delete;
  PushSender& operator=(const PushSender&) = delete;
  PushSender(PushSender&&) = delete;
  PushSender& operator=(PushSender&&) = delete;

  void start() { task_.start(); }
  /// Idempotent; the destructor calls it. Waits for the POST in flight
  /// (bounded by the timeout).
  void stop() { task_.stop(); }
  /// One round now: returns the pushes claimed. Throws on database errors.
  std::size_t run_round();

 private:
  storage::Database& db_;
  metrics::Counter& sent_;
  metrics::Counter& failed_;
  metrics::Counter& given_up_;
  metrics::Counter& rejected_;
  PushSenderOptions options_;
  PeriodicTask task_;  ///< last: stopped (by its destructor) before the rest goes
};

}  // namespace eltrix::services
