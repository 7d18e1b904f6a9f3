// Fully read markers (spec: "Fully read markers"): POST
// /rooms/{roomId}/read_markers. The receipt service
// (receipts/receipt_service.h) moves the markers.
#pragma once

#include "http/router.h"

namespace eltrix::client {

struct Context;

void add_read_marker_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
