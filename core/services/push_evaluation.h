// The notification evaluator (spec: "Push Notifications"; docs/decisions.md
// D49): off the send path, it reads the events stream after its saved
// position up to the stream's bound and, for every event and every local
// joined member but the sender, evaluates the member's push rules
// (matrix/push_evaluator.h). Notifying results go into the notifications
// table (GET /notifications, unread counts), and each queues a push per http
// pusher (services/push_sender.h). A batch evaluates in a read-only
// transaction (holding back no one's stream bound), then records its
// notifications and moves the saved position in one short write that only
// succeeds from the position it started at, so nothing is recorded twice or
// skipped. One node at a time runs the batches: the one holding the lease
// on the progress row; any node takes over once it lapses.
#pragma once

#include "services/periodic_task.h"
#include "storage/database.h"

#include <chrono>
#include <cstddef>
#include <string>

namespace eltrix::metrics {
class Registry;
class Counter;
}  // namespace eltrix::metrics

namespace eltrix::services {

struct PushEvaluationOptions {
  /// How often the loop looks for new events when the last batch was short.
  std::chrono::milliseconds interval{500};
  /// Events read per batch (one transaction).
  std::size_t batch_events = 100;
  /// Rule evaluations per batch: a batch ends after the event that reaches
  /// it, so a big room's message does not make one huge transaction.
  std::size_t batch_evaluations = 5000;
  /// How long the node that saved the last batch keeps the batches: other
  /// nodes evaluate only once it lapsed (that node stopped, or was idle).
  std::chrono::milliseconds lease{30000};
  /// Notifications older than this are deleted (Synapse keeps 30 days too),
  /// at most prune_batch per batch, so the table does not grow forever.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};
  std::size_t prune_batch = 500;
};

class PushEvaluation {
 public:
  PushEvaluation(storage::Database& db, std::string server_name, metrics::Registry& metrics,
                 PushEvaluationOptions options = {});
  ~PushEvaluation() = default;
  PushEvaluation(const PushEvaluation&) = delete;
  PushEvaluation& operator=(const PushEvaluation&) = delete;
  PushEvaluation(PushEvaluation&&) = delete;
  PushEvaluation& operator=(PushEvaluation&&) = delete;

  void start() { task_.start(); }
  /// Idempotent; the destructor calls it. Returns once the running batch
  /// (one transaction) ended.
  void stop() { task_.stop(); }
  /// One batch now. Returns the events read (0: nothing new, or another
  /// node holds the progress row). Throws on database errors.
  std::size_t run_batch();

 private:
  storage::Database& db_;
  const std::string server_name_;
  const std::string node_token_;
  metrics::Counter& notifications_;
  PushEvaluationOptions options_;
  PeriodicTask task_;  ///< last: stopped (by its destructor) before the rest goes
};

}  // namespace eltrix::services
