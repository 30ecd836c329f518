#include "tandem/api/errors.h"

#include <nlohmann/json.hpp>

namespace tandem::api {
namespace {

const char* TitleOf(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "The request is not valid";
    case Code::kMalformedJson: return "The body is not well-formed JSON";
    case Code::kNotFound: return "Not found";
    case Code::kConflict: return "Conflict with the current state";
    case Code::kEmailTaken: return "E-mail address already registered";
    case Code::kInsufficientStock: return "Not enough stock";
    case Code::kHoldExpired: return "The hold on the cart expired";
    case Code::kInvalidTransition: return "The order cannot move to that status";
    case Code::kUnauthorized: return "Authentication required";
    case Code::kForbidden: return "Not allowed for this role";
    case Code::kIdempotencyKeyReused: return "Idempotency-Key reused with a different request";
    case Code::kPayloadTooLarge: return "The request body is too large";
    case Code::kTooManyLines: return "Too many lines";
    case Code::kCartClosed: return "The cart is checked out";
    case Code::kStockCommitted: return "The stock is committed to carts and orders";
    case Code::kMethodNotAllowed: return "Method not allowed";
    case Code::kMalformedRequest: return "Malformed HTTP request";
    case Code::kLimitExceeded: return "Per-customer limit of the sale event reached";
    case Code::kHeadersTooLarge: return "Request headers too large";
    case Code::kWrongItem: return "Not an item of this shipment";
    case Code::kWrongCode: return "Wrong code";
    case Code::kEmptyFile: return "The file is empty";
    case Code::kUnsupportedFileType: return "Not a PDF, JPEG or PNG file";
    case Code::kDamagedFile: return "The file is cut short or damaged";
    case Code::kFileTooLarge: return "The file is too large";
    case Code::kUnavailable: return "Temporarily unavailable";
    case Code::kInternal: return "Internal error";
  }
  return "Internal error";
}

}  // namespace

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 422;
    case Code::kMalformedJson: return 400;
    case Code::kNotFound: return 404;
    case Code::kConflict: return 409;
    case Code::kEmailTaken: return 409;
    case Code::kInsufficientStock: return 409;
    case Code::kHoldExpired: return 409;
    case Code::kInvalidTransition: return 409;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden: return 403;
    case Code::kIdempotencyKeyReused: return 422;
    case Code::kPayloadTooLarge: return 413;
    case Code::kTooManyLines: return 422;
    case Code::kCartClosed: return 409;
    case Code::kStockCommitted: return 409;
    case Code::kMethodNotAllowed: return 405;
    case Code::kMalformedRequest: return 400;
    case Code::kLimitExceeded: return 409;
    case Code::kHeadersTooLarge: return 431;
    case Code::kWrongItem: return 409;
    case Code::kWrongCode: return 409;
    case Code::kEmptyFile: return 422;
    case Code::kUnsupportedFileType: return 415;
    case Code::kDamagedFile: return 422;
    case Code::kFileTooLarge: return 413;
    case Code::kUnavailable: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

Response Problem(const Status& status) {
  Response r;
  r.status = HttpStatusOf(status.code());
  r.content_type = "application/problem+json";
  std::string code(CodeName(status.code()));
  nlohmann::json body{{"type", "urn:tandem:problem:" + code},
                      {"title", TitleOf(status.code())},
                      {"status", r.status},
                      {"detail", r.status >= 500 ? "see the server log for this request id"
                                                 : status.message()},
                      {"code", code}};
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (status.code() == Code::kUnavailable) r.headers.emplace_back("Retry-After", "1");
  if (r.status >= 500) r.log_detail = status.message();
  return r;
}

}  // namespace tandem::api
