// Receipts (spec: "Receipts"): POST /rooms/{roomId}/receipt/{receiptType}/{eventId}
// for m.read, m.read.private and m.fully_read (the read marker). Stored in
// PostgreSQL, latest per (room, user, type, thread); /sync sends them as the
// room's m.receipt ephemeral event (sync/sections.h).
#pragma once

#include "http/router.h"

namespace eltrix::client {

struct Context;

void add_receipt_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
