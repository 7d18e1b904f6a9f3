#include "replica_choice.h"

namespace eltrix::db_replicas {

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::usable: return "usable";
    case Verdict::down: return "down";
    case Verdict::lagging: return "lagging";
    case Verdict::behind: return "behind";
  }
  return "unknown";
}

Verdict judge(const plugin::TargetState& target, std::uint64_t min_position,
              std::chrono::milliseconds max_lag) {
  if (!target.healthy) return Verdict::down;
  if (target.lag > max_lag) return Verdict::lagging;
  if (target.replay_position < min_position) return Verdict::behind;
  return Verdict::usable;
}

}  // namespace eltrix::db_replicas
