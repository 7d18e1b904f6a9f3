// After commit: wake the syncs waiting on what changed (the room, and for a
// membership event the target user, whose room list changes).
#pragma once

#include "rooms/after_commit.h"

namespace eltrix::notify {
class Notifier;
}

namespace eltrix::rooms {

class WakeSyncs final : public AfterCommitEffect {
 public:
  explicit WakeSyncs(notify::Notifier& notifier) : notifier_(notifier) {}
  void committed(const std::vector<CommittedEvent>& events) noexcept override;

 private:
  notify::Notifier& notifier_;
};

}  // namespace eltrix::rooms
