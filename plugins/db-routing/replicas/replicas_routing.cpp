#include "replicas_routing.h"

namespace eltrix::db_replicas {

namespace {

constexpr std::uint8_t kUnseen = 0xFF;
constexpr std::string_view kSkippedHelp =
    "Reads that did not go to a replica, by replica and reason (down: failed its health "
    "probe; lagging: beyond database.replica_max_lag_ms; behind: had not replayed the "
    "reader's own last write).";

}  // namespace

ReplicasRouting::ReplicasRouting(plugin::Host& host, const plugin::Config& config)
    : host_(host), max_lag_(config.get_int(kMaxLagKey, 5000)) {
  if (max_lag_.count() < 0) {
    throw plugin::Error(plugin::ErrorKind::permanent,
                        std::string(kMaxLagKey) + " = " + std::to_string(max_lag_.count()) +
                            ": expected a number of milliseconds >= 0");
  }
  for (auto& state : states_) state.store(kUnseen, std::memory_order_relaxed);
  host_.info("replica routing ready", {{"max_lag_ms", std::to_string(max_lag_.count())}});
}

plugin::Health ReplicasRouting::health() {
  const std::size_t seen = replicas_seen_.load();
  const std::size_t usable = replicas_usable_.load();
  if (seen == 0) return {plugin::HealthStatus::ok, "no read routed yet"};
  // A replica out of rotation degrades nothing here: the core reports each
  // replica's own health, and reads still have the primary.
  return {plugin::HealthStatus::ok,
          std::to_string(usable) + " of " + std::to_string(seen) + " replicas in rotation"};
}

std::size_t ReplicasRouting::route(const plugin::RouteRequest& request,
                                   std::span<const plugin::TargetState> targets) {
  if (request.access != plugin::Access::read || targets.size() < 2) return 0;
  const std::size_t replicas = targets.size() - 1;

  // Judge every replica (a handful at most): state changes are noticed even
  // on a replica that is not picked, and each skip is counted. Then pick the
  // k-th usable one, k from the rotating cursor, so the load is even however
  // many are out of rotation.
  std::uint64_t usable_mask = 0;  // replicas beyond 64 are judged by the second pass alone
  std::size_t usable = 0;
  for (std::size_t index = 1; index < targets.size(); ++index) {
    const plugin::TargetState& target = targets[index];
    const Verdict own = judge(target, 0, max_lag_);
    note_state(index, target, own);
    const Verdict verdict =
        own == Verdict::usable ? judge(target, request.min_position, max_lag_) : own;
    if (verdict == Verdict::usable) {
      ++usable;
      if (index <= 64) usable_mask |= std::uint64_t{1} << (index - 1);
    } else {
      count_skip(index, target.name, verdict);
    }
  }
  std::size_t chosen = 0;
  if (usable > 0) {
    std::size_t k = next_.fetch_add(1, std::memory_order_relaxed) % usable;
    for (std::size_t index = 1; index < targets.size(); ++index) {
      const bool ok =
          index <= 64 ? ((usable_mask >> (index - 1)) & 1U) != 0
                      : judge(targets[index], request.min_position, max_lag_) == Verdict::usable;
      if (ok && k-- == 0) {
        chosen = index;
        break;
      }
    }
  }
  replicas_seen_.store(replicas, std::memory_order_relaxed);
  replicas_usable_.store(usable, std::memory_order_relaxed);
  return chosen;
}

void ReplicasRouting::note_state(std::size_t index, const plugin::TargetState& target,
                                 Verdict state) {
  if (index >= kTrackedTargets) return;
  const auto now = static_cast<std::uint8_t>(state);
  std::uint8_t before = states_[index].load(std::memory_order_relaxed);
  if (before == now) return;
  // Only the thread that wins the exchange logs, so a change is logged once.
  if (!states_[index].compare_exchange_strong(before, now)) return;
  const std::string lag = std::to_string(target.lag.count());
  if (state == Verdict::usable) {
    if (before != kUnseen)
      host_.info("replica back in rotation", {{"target", target.name}, {"lag_ms", lag}});
    return;
  }
  host_.warn("replica out of rotation; its reads go elsewhere",
             {{"target", target.name},
              {"reason", to_string(state)},
              {"lag_ms", lag},
              {"max_lag_ms", std::to_string(max_lag_.count())}});
}

void ReplicasRouting::count_skip(std::size_t index, std::string_view target, Verdict verdict) {
  if (index >= kTrackedTargets) return;
  auto& slot = skipped_[index][static_cast<std::size_t>(verdict)];
  plugin::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    std::lock_guard lock(counters_mutex_);
    counter = slot.load(std::memory_order_acquire);
    if (counter == nullptr) {
      counter = &host_.counter("eltrix_db_replica_skipped_total", kSkippedHelp,
                               {{"target", target}, {"reason", to_string(verdict)}});
      slot.store(counter, std::memory_order_release);
    }
  }
  counter->inc();
}

}  // namespace eltrix::db_replicas
