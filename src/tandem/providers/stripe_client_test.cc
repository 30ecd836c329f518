#include "tandem/providers/stripe_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

extern char** environ;

namespace tandem::providers {
namespace {

constexpr char kSecretKey[] = "sk_test_client_tests";
constexpr int kStartTimeoutMs = 10'000;

// The provider simulator (tools/payment_provider.py) on a free port, stopped with the object.
class Simulator {
 public:
  Simulator() {
    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<std::string> args = {TANDEM_PYTHON, TANDEM_PAYMENT_SIMULATOR, "--port",
                                     "0",           "--secret-key",           kSecretKey};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, TANDEM_PYTHON, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = out[0];
    if (rc != 0) {
      pid_ = -1;
      return;
    }
    // The first line: "listening on http://127.0.0.1:PORT".
    std::string line;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kStartTimeoutMs);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      const ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    const std::string prefix = "listening on ";
    if (line.rfind(prefix, 0) == 0 && line.find('\n') != std::string::npos) {
      base_url_ = line.substr(prefix.size(), line.find('\n') - prefix.size());
    }
  }
  ~Simulator() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Empty when the simulator did not start.
  const std::string& base_url() const { return base_url_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string base_url_;
};

size_t Append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// One HTTP call to the simulator as a test sees it: the status and the body parsed as JSON
// (null when it is not JSON); the body as text in `text` when given.
std::pair<long, nlohmann::json> Call(const std::string& method, const std::string& url,
                                     const std::string& json_body = "",
                                     std::string* text = nullptr) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers =
      curl_slist_append(headers, (std::string("Authorization: Bearer ") + kSecretKey).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (text != nullptr) *text = body;
  return {status, nlohmann::json::parse(body, nullptr, false)};
}

// A local port nothing listens on (bound, then closed).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

payments::CardSessionRequest AnOrder() {
  payments::CardSessionRequest request;
  request.order_id = 42;
  request.order_number = "TD-2026-000042";
  request.amount_minor = 12345;
  request.currency = "myr";
  // "+" and "&" are where a form encoder that forgets to escape shows.
  request.customer_email = "shopper+card@example.com";
  request.success_url = "http://127.0.0.1:9/paid?order=42&session={CHECKOUT_SESSION_ID}";
  request.cancel_url = "http://127.0.0.1:9/cart?order=42&cancelled=1";
  request.expires_at_s = NowSeconds() + 1800;
  request.idempotency_key = "order-42-card-1";
  return request;
}

class StripeClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(sim_.base_url().empty()) << "the simulator did not start"; }
  StripeClient Client(std::string key = kSecretKey) {
    return StripeClient(StripeConfig{sim_.base_url(), std::move(key)});
  }
  // Pays a session with the card that succeeds; its payment intent.
  std::string Pay(const std::string& session_id) {
    auto [status, body] =
        Call("POST", sim_.base_url() + "/sim/pay/" + session_id, R"({"card":"4242424242424242"})");
    EXPECT_EQ(status, 200) << body.dump();
    return body["session"]["payment_intent"].get<std::string>();
  }

  Simulator sim_;
};

TEST_F(StripeClientTest, CreatesACheckoutSessionWithEveryFieldOfTheOrder) {
  StripeClient client = Client();
  const payments::CardSessionRequest order = AnOrder();
  Result<payments::CardSession> session = client.CreateSession(order);
  ASSERT_TRUE(session.ok()) << session.status().message();
  EXPECT_EQ(session->id.rfind("cs_test_", 0), 0u) << session->id;
  EXPECT_EQ(session->url, sim_.base_url() + "/pay/" + session->id);

  auto [status, got] = Call("GET", sim_.base_url() + "/v1/checkout/sessions/" + session->id);
  ASSERT_EQ(status, 200) << got.dump();
  EXPECT_EQ(got["mode"], "payment");
  EXPECT_EQ(got["amount_total"], 12345);
  EXPECT_EQ(got["currency"], "myr");
  EXPECT_EQ(got["client_reference_id"], "42");
  EXPECT_EQ(got["metadata"],
            (nlohmann::json{{"order_id", "42"}, {"order_number", "TD-2026-000042"}}));
  EXPECT_EQ(got["customer_email"], order.customer_email);
  EXPECT_EQ(got["success_url"], order.success_url);
  EXPECT_EQ(got["cancel_url"], order.cancel_url);
  EXPECT_EQ(got["expires_at"], order.expires_at_s);
  EXPECT_EQ(got["status"], "open");
  // The hosted page names the order.
  std::string page;
  EXPECT_EQ(Call("GET", session->url, "", &page).first, 200);
  EXPECT_NE(page.find("Order TD-2026-000042"), std::string::npos) << page;
}

TEST_F(StripeClientTest, TheSameIdempotencyKeyGivesTheSameSession) {
  StripeClient client = Client();
  const payments::CardSessionRequest order = AnOrder();
  Result<payments::CardSession> first = client.CreateSession(order);
  Result<payments::CardSession> again = client.CreateSession(order);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id, again->id);
  payments::CardSessionRequest other = order;
  other.idempotency_key = "order-42-card-2";
  Result<payments::CardSession> second = client.CreateSession(other);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->id, first->id);
  // The same key for another amount is refused, as Stripe does.
  other.amount_minor = 999;
  Result<payments::CardSession> reused = client.CreateSession(other);
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(reused.status().message().find("same parameters"), std::string::npos)
      << reused.status().message();
}

TEST_F(StripeClientTest, RefundsAPaidSessionUpToItsAmount) {
  StripeClient client = Client();
  Result<payments::CardSession> session = client.CreateSession(AnOrder());
  ASSERT_TRUE(session.ok());
  const std::string intent = Pay(session->id);
  ASSERT_EQ(intent.rfind("pi_", 0), 0u) << intent;

  Result<std::string> part = client.Refund({intent, 5000, "refund-42-1"});
  ASSERT_TRUE(part.ok()) << part.status().message();
  EXPECT_EQ(part->rfind("re_", 0), 0u) << *part;
  // Sent again with its key, the same refund: nothing more is taken back.
  Result<std::string> again = client.Refund({intent, 5000, "refund-42-1"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *part);

  Result<std::string> too_much = client.Refund({intent, 7346, "refund-42-2"});
  ASSERT_FALSE(too_much.ok());
  EXPECT_EQ(too_much.status().code(), Code::kInvalidArgument);
  EXPECT_NE(too_much.status().message().find("greater than unrefunded amount"), std::string::npos)
      << too_much.status().message();
  EXPECT_TRUE(client.Refund({intent, 7345, "refund-42-3"}).ok());
}

TEST_F(StripeClientTest, ARefusedRequestIsInvalidArgumentWithStripesMessage) {
  payments::CardSessionRequest order = AnOrder();
  order.success_url.clear();
  Result<payments::CardSession> session = Client().CreateSession(order);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), Code::kInvalidArgument);
  EXPECT_NE(session.status().message().find("Missing required param: success_url"),
            std::string::npos)
      << session.status().message();
  Result<std::string> refund = Client().Refund({"pi_unknown", 100, ""});
  ASSERT_FALSE(refund.ok());
  EXPECT_EQ(refund.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refund.status().message().find("No such payment_intent"), std::string::npos);
}

TEST_F(StripeClientTest, AWrongSecretKeyIsUnavailableNotTheShoppersFault) {
  Result<payments::CardSession> session = Client("sk_test_wrong").CreateSession(AnOrder());
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), Code::kUnavailable);
  EXPECT_NE(session.status().message().find("Invalid API Key"), std::string::npos)
      << session.status().message();
  EXPECT_EQ(session.status().message().find("sk_test_wrong"), std::string::npos)
      << "the key is not repeated in messages";
}

TEST_F(StripeClientTest, AServerErrorIsUnavailableAndTheRetryWorks) {
  ASSERT_EQ(Call("POST", sim_.base_url() + "/sim/config", R"({"fail_api":1})").first, 200);
  StripeClient client = Client();
  Result<payments::CardSession> failed = client.CreateSession(AnOrder());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_NE(failed.status().message().find("500"), std::string::npos) << failed.status().message();
  EXPECT_TRUE(client.CreateSession(AnOrder()).ok());
}

TEST_F(StripeClientTest, ASlowProviderTimesOutAsUnavailable) {
  ASSERT_EQ(Call("POST", sim_.base_url() + "/sim/config", R"({"api_delay_ms":3000})").first, 200);
  StripeClient client(StripeConfig{sim_.base_url(), kSecretKey, 1, 1});
  const auto start = std::chrono::steady_clock::now();
  Result<payments::CardSession> session = client.CreateSession(AnOrder());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), Code::kUnavailable);
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

TEST(StripeClient, AnUnreachableProviderIsUnavailable) {
  StripeClient client(StripeConfig{"http://127.0.0.1:" + std::to_string(ClosedPort()), kSecretKey});
  Result<payments::CardSession> session = client.CreateSession(AnOrder());
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), Code::kUnavailable);
  Result<std::string> refund = client.Refund({"pi_x", 100, "k"});
  ASSERT_FALSE(refund.ok());
  EXPECT_EQ(refund.status().code(), Code::kUnavailable);
}

TEST(StripeClient, RefusesWhatItWouldNotSendWithoutCallingTheProvider) {
  // Unreachable: an attempt to call would come back kUnavailable, not kInvalidArgument.
  StripeClient client(StripeConfig{"http://127.0.0.1:" + std::to_string(ClosedPort()), kSecretKey});
  auto expect_refused = [&client](const payments::CardSessionRequest& request) {
    Result<payments::CardSession> session = client.CreateSession(request);
    ASSERT_FALSE(session.ok());
    EXPECT_EQ(session.status().code(), Code::kInvalidArgument) << session.status().message();
  };
  payments::CardSessionRequest order = AnOrder();
  order.amount_minor = 0;
  expect_refused(order);
  order = AnOrder();
  order.currency = "MYR";
  expect_refused(order);
  order = AnOrder();
  order.idempotency_key = "k\r\nX-Injected: 1";
  expect_refused(order);
  order = AnOrder();
  order.idempotency_key = std::string(kIdempotencyKeyBytesMax + 1, 'k');
  expect_refused(order);
  EXPECT_EQ(client.Refund({"pi_x", 0, "k"}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client.Refund({"", 100, "k"}).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace tandem::providers
