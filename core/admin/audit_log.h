// Every admin API call is logged at info ("admin" logger): who called it,
// the method and path, and the status it got, refused calls included (the
// wrapper runs outside authentication). Bodies are never logged: they carry
// passwords.
#pragma once

#include "http/router.h"

namespace eltrix::admin {

http::Handler with_audit_log(http::Handler handler);

}  // namespace eltrix::admin
