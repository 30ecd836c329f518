// The one table from outcome Code to HTTP status, and problem+json (RFC 9457) responses.
#pragma once

#include "tandem/api/http.h"
#include "tandem/base/result.h"

namespace tandem::api {

int HttpStatusOf(Code code);
// {"type","title","status","detail","code"} with content type application/problem+json.
Response Problem(const Status& status);

}  // namespace tandem::api
