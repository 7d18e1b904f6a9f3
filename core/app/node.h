// A running Eltrix node: plugins, database, HTTP, health, and the lifecycle
// from start to drained exit.
#pragma once

#include "app/configuration.h"

namespace eltrix::metrics {
class Registry;
}

namespace eltrix::app {

/// Serves until SIGTERM or SIGINT, then drains: reports not-ready, stops
/// accepting, finishes requests in flight and returns 0. Returns kExitConfig
/// when a plugin refuses to start or the database belongs to another server.
/// The caller must have blocked SIGTERM, SIGINT and SIGHUP in every thread.
int run_node(LoadedConfiguration& loaded, plugins::Registry& registry, metrics::Registry& metrics);

/// Blocks the signals run_node waits for; call first thing in main, before
/// any thread exists, so that they are delivered to sigwait only.
void block_termination_signals();

}  // namespace eltrix::app
