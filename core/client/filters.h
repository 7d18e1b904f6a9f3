// Filter uploads (spec: "Filtering"): POST /user/{userId}/filter and
// GET /user/{userId}/filter/{filterId}. Parsing and matching live in
// sync/filter.h, shared with /sync and /messages.
#pragma once

#include "http/router.h"

namespace eltrix::client {

struct Context;

void add_filter_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
