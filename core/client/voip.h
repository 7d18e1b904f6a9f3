// VoIP (spec: "Voice over IP", GET /voip/turnServer): the TURN server and
// time-limited credentials for it, in the scheme of coturn's use-auth-secret
// (the "TURN REST API"): username "<expiry unix seconds>:<user_id>",
// password base64(HMAC-SHA1(shared secret, username)).
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_voip_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
