#include "client/route_auth.h"

#include "client/auth_impl.h"

#include <utility>

namespace eltrix::client {

http::Handler with_route_auth(http::Auth auth, Authenticator& authenticator,
                              http::Handler handler) {
  if (auth == http::Auth::none) return handler;
  return [auth, &authenticator, handler = std::move(handler)](http::Request& request) {
    if (auth != http::Auth::optional || access_token_of(request)) {
      Requester who = authenticator.authenticate(request);
      if (auth == http::Auth::admin && !who.admin) {
        throw http::MatrixError(403, "M_FORBIDDEN", "You are not a server admin");
      }
      request.set_requester(std::move(who));
    }
    return handler(request);
  };
}

}  // namespace eltrix::client
