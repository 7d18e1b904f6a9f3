// The pipeline's last phase: what happens once the transaction that
// persisted events has committed. Each effect is one registered object that
// sees every committed event; wake-ups of waiting syncs are the first
// (rooms/wake_effect.h). The federation outbox, push and E2EE device-list
// changes are added the same way: append an effect, do not edit the pipeline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::rooms {

/// An event as committed, with what effects usually need without a query.
struct CommittedEvent {
  std::string room_id;
  std::string event_id;
  std::string type;
  std::optional<std::string> state_key;
  std::string sender;
  /// content.membership of an m.room.member event ("" otherwise).
  std::string membership;
  std::int64_t stream = 0;
  /// Built here (false: received from another server).
  bool local = true;
  /// Soft-failed: in the DAG, not in the current state; not for clients.
  bool soft_failed = false;
};

class AfterCommitEffect {
 public:
  virtual ~AfterCommitEffect() = default;
  /// Called once per committed transaction, with its events in stream order,
  /// on the thread that committed. Must not throw (a failure is the
  /// effect's to log: the events are stored whatever happens here).
  virtual void committed(const std::vector<CommittedEvent>& events) noexcept = 0;
};

/// The effects the pipeline runs, in the order they were appended. Append at
/// start-up, before events are sent.
class AfterCommitEffects {
 public:
  void append(AfterCommitEffect& effect) { effects_.push_back(&effect); }
  void run(const std::vector<CommittedEvent>& events) const noexcept {
    if (events.empty()) return;
    for (auto* effect : effects_) effect->committed(events);
  }

 private:
  std::vector<AfterCommitEffect*> effects_;
};

}  // namespace eltrix::rooms
