#include "tandem/providers/stripe_client.h"

#include <curl/curl.h>

#include <memory>
#include <nlohmann/json.hpp>

namespace tandem::providers {
namespace {

Status Unavailable(std::string what) {
  return Status(Code::kUnavailable, "card provider: " + std::move(what));
}

Status Refused(std::string what) {
  return Status(Code::kInvalidArgument, "card provider: " + std::move(what));
}

// libcurl's global state is set up once per process, before the first handle (curl_global_init
// is not thread-safe on every build, a function-local static is).
bool InitCurlOnce() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ok;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  void operator()(char* text) const { curl_free(text); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using CurlList = std::unique_ptr<curl_slist, CurlDeleter>;
using CurlText = std::unique_ptr<char, CurlDeleter>;

// Appends to the body, refusing an answer past kProviderResponseBytesMax (curl then fails the
// transfer with CURLE_WRITE_ERROR).
size_t WriteBody(char* data, size_t size, size_t count, void* out) {
  auto* body = static_cast<std::string*>(out);
  const size_t n = size * count;
  if (body->size() + n > kProviderResponseBytesMax) return 0;
  body->append(data, n);
  return n;
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool IsLowerCurrency(std::string_view currency) {
  if (currency.size() != 3) return false;
  for (char c : currency) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

// Stripe's error.message from a 4xx answer, or the status when the body has none.
std::string ErrorMessage(long status, const std::string& body) {
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const nlohmann::json& error = json["error"];
    if (error.contains("message") && error["message"].is_string()) {
      return error["message"].get<std::string>();
    }
  }
  return "HTTP " + std::to_string(status);
}

// An answer's string field, or empty when it is missing or not a string.
std::string StringField(const nlohmann::json& json, const char* name) {
  if (!json.is_object() || !json.contains(name) || !json[name].is_string()) return {};
  return json[name].get<std::string>();
}

}  // namespace

StripeClient::StripeClient(StripeConfig config) : config_(std::move(config)) {
  while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
}

Result<StripeClient::Response> StripeClient::Post(std::string_view path, const Fields& fields,
                                                  std::string_view idempotency_key) const {
  if (!InitCurlOnce()) return Unavailable("libcurl could not initialise");
  if (HasLineBreak(config_.secret_key) || HasLineBreak(idempotency_key)) {
    return Refused("a line break in the secret key or the idempotency key");
  }
  if (idempotency_key.size() > kIdempotencyKeyBytesMax) return Refused("idempotency key too long");
  CurlHandle curl(curl_easy_init());
  if (!curl) return Unavailable("libcurl could not make a handle");

  std::string form;
  for (const auto& [name, value] : fields) {
    CurlText n(curl_easy_escape(curl.get(), name.data(), static_cast<int>(name.size())));
    CurlText v(curl_easy_escape(curl.get(), value.data(), static_cast<int>(value.size())));
    if (!n || !v) return Unavailable("out of memory");
    if (!form.empty()) form += '&';
    form.append(n.get()).append("=").append(v.get());
  }

  curl_slist* raw_headers = nullptr;
  auto add_header = [&raw_headers](const std::string& header) {
    curl_slist* grown = curl_slist_append(raw_headers, header.c_str());
    if (grown != nullptr) raw_headers = grown;
    return grown != nullptr;
  };
  bool headers_ok = add_header("Authorization: Bearer " + config_.secret_key) &&
                    add_header("Content-Type: application/x-www-form-urlencoded") &&
                    add_header("Stripe-Version: " + std::string(kStripeApiVersion)) &&
                    add_header("Expect:");  // no 100-continue round trip
  if (!idempotency_key.empty()) {
    headers_ok = headers_ok && add_header("Idempotency-Key: " + std::string(idempotency_key));
  }
  CurlList headers(raw_headers);
  if (!headers_ok) return Unavailable("out of memory");

  const std::string url = config_.base_url + std::string(path);
  Response response;
  char error[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM, from any thread
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(config_.connect_timeout_s));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(config_.timeout_s));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "Tandem");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return Unavailable(std::string(path) + ": " +
                       (error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

namespace {

// The outcome of an answer that is not a 2xx.
Status FromFailedAnswer(long status, const std::string& body) {
  const std::string message = ErrorMessage(status, body);
  const bool retry_or_ours = status == 401 || status == 403 || status == 409 || status == 429;
  if (status >= 400 && status < 500 && !retry_or_ours) return Refused(message);
  return Unavailable("HTTP " + std::to_string(status) + ": " + message);
}

}  // namespace

Result<payments::CardSession> StripeClient::CreateSession(
    const payments::CardSessionRequest& request) {
  if (request.amount_minor <= 0) return Refused("the amount must be positive");
  if (!IsLowerCurrency(request.currency)) return Refused("currency must be 3 lower-case letters");
  const std::string order_id = std::to_string(request.order_id);
  Fields fields = {
      {"mode", "payment"},
      {"line_items[0][price_data][currency]", request.currency},
      {"line_items[0][price_data][unit_amount]", std::to_string(request.amount_minor)},
      {"line_items[0][price_data][product_data][name]", "Order " + request.order_number},
      {"line_items[0][quantity]", "1"},
      {"success_url", request.success_url},
      {"cancel_url", request.cancel_url},
      {"client_reference_id", order_id},
      {"metadata[order_id]", order_id},
      {"metadata[order_number]", request.order_number},
  };
  if (!request.customer_email.empty())
    fields.emplace_back("customer_email", request.customer_email);
  if (request.expires_at_s > 0)
    fields.emplace_back("expires_at", std::to_string(request.expires_at_s));

  Result<Response> response = Post("/v1/checkout/sessions", fields, request.idempotency_key);
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status >= 300) {
    return FromFailedAnswer(response->status, response->body);
  }
  const nlohmann::json json = nlohmann::json::parse(response->body, nullptr, false);
  payments::CardSession session{StringField(json, "id"), StringField(json, "url")};
  if (session.id.empty() || session.url.empty()) {
    return Unavailable("a checkout session without id or url");
  }
  return session;
}

Result<std::string> StripeClient::Refund(const payments::CardRefundRequest& request) {
  if (request.amount_minor <= 0) return Refused("the refund amount must be positive");
  if (request.payment_intent.empty()) return Refused("a refund needs the payment intent");
  const Fields fields = {
      {"payment_intent", request.payment_intent},
      {"amount", std::to_string(request.amount_minor)},
  };
  Result<Response> response = Post("/v1/refunds", fields, request.idempotency_key);
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status >= 300) {
    return FromFailedAnswer(response->status, response->body);
  }
  const nlohmann::json json = nlohmann::json::parse(response->body, nullptr, false);
  std::string id = StringField(json, "id");
  if (id.empty()) return Unavailable("a refund without id");
  return id;
}

}  // namespace tandem::providers
