#include "tandem/api/http_server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include "tandem/api/errors.h"
#include "tandem/base/crypto.h"
#include "tandem/base/limits.h"

namespace tandem::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
// Each connection runs on a strand of its own, typed concretely: the polymorphic executor and
// Beast's timed stream cost the I/O thread a few microseconds per request.
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = tcp::socket::rebind_executor<Strand>::other;
using Watchdog = asio::basic_waitable_timer<std::chrono::steady_clock,
                                            asio::wait_traits<std::chrono::steady_clock>, Strand>;

// After the stop's grace period, how long Run() still waits for answers owed (queued writes).
constexpr int kUnansweredWaitSeconds = 60;

struct Shared {
  RequestHandler handler;
  std::atomic<int> in_flight{0};
  std::atomic<int> unanswered{0};  // handed to the handler, Respond not called yet
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> next_id{0};
  std::string id_prefix;
  std::chrono::seconds request_time{kRequestSecondsMax};
  int connections_max = kConnectionsMax;

  std::string NextRequestId() {
    std::string id = id_prefix;
    id.push_back('-');
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, next_id.fetch_add(1) + 1);
    return id.append(digits, end);
  }
};

void ToRequest(http::request<http::string_body>& in, std::string request_id, Request& r) {
  r = Request{};
  r.method = std::string(in.method_string());
  std::string target(in.target());
  size_t q = target.find('?');
  r.path = PercentDecode(target.substr(0, q));
  if (q != std::string::npos) r.query = ParseQuery(target.substr(q + 1));
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    r.headers[name] = std::string(field.value());
  }
  r.body = std::move(in.body());
  r.request_id = std::move(request_id);
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket socket, Shared& shared)
      : socket_(std::move(socket)), watchdog_(socket_.get_executor()), shared_(shared) {
    shared_.connections.fetch_add(1);
  }
  ~Session() { shared_.connections.fetch_sub(1); }

  void Start() {
    asio::dispatch(socket_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kRequestHeaderBytesMax));
    // The head is parsed under the largest limit (Beast checks a Content-Length against the
    // limit as it reads the head); OnHeader then sets the route's own.
    parser_->body_limit(kUploadBodyBytesMax);
    BeginIo();
    http::async_read_header(socket_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // The head is read: an upload route may take a larger body (kUploadBodyBytesMax), every other
  // route kRequestBodyBytesMax. Then the body.
  void OnHeader(beast::error_code ec, std::size_t) {
    if (closed_) return;  // timed out
    if (ec || parser_->is_done()) return OnRead(ec, 0);
    body_limit_ = IsUploadTarget(parser_->get().target()) ? kUploadBodyBytesMax
                                                          : kRequestBodyBytesMax;
    parser_->body_limit(body_limit_);  // for a chunked body, checked as it is read
    if (boost::optional<std::uint64_t> length = parser_->content_length();
        length && *length > body_limit_) {
      return OnRead(http::error::body_limit, 0);
    }
    http::async_read(socket_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  static bool IsUploadTarget(beast::string_view target) {
    constexpr beast::string_view kSuffix = "/proofs";
    size_t query = target.find('?');
    if (query != beast::string_view::npos) target = target.substr(0, query);
    return target.starts_with("/api/v1/orders/") && target.ends_with(kSuffix);
  }

  // Reading a request, and writing its answer, must each end within ServerOptions'
  // request_seconds (an idle keep-alive connection is closed then too). One timer per connection
  // is armed about once per period, not for every socket operation; between the two the
  // connection waits for the handler's answer, which has no limit here.
  void BeginIo() {
    io_pending_ = true;
    deadline_ = std::chrono::steady_clock::now() + shared_.request_time;
    if (!watchdog_armed_) ArmWatchdog();
  }

  void ArmWatchdog() {
    watchdog_armed_ = true;
    watchdog_.expires_at(deadline_);
    watchdog_.async_wait([self = shared_from_this()](beast::error_code ec) {
      self->watchdog_armed_ = false;
      if (ec || self->closed_ || !self->io_pending_) return;  // armed again by the next BeginIo
      if (std::chrono::steady_clock::now() < self->deadline_) return self->ArmWatchdog();
      // Closed, not just cancelled: a read that completed meanwhile (its handler queued behind
      // this one) would go on reading, and a cancel only stops what is pending.
      self->closed_ = true;
      beast::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
      self->socket_.close(ignored);
    });
  }

  void OnRead(beast::error_code ec, std::size_t) {
    io_pending_ = false;
    if (closed_) return;  // timed out
    if (ec == http::error::end_of_stream ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    std::string request_id = shared_.NextRequestId();
    if (ec == http::error::body_limit) {
      return SendError(Status(Code::kPayloadTooLarge, "the body is larger than " +
                                                          std::to_string(body_limit_) +
                                                          " bytes"),
                       request_id);
    }
    if (ec == http::error::header_limit) {
      return SendError(Status(Code::kHeadersTooLarge, "the headers are too large"), request_id);
    }
    if (ec) {
      return SendError(Status(Code::kMalformedRequest, "malformed HTTP request"), request_id);
    }
    if (shared_.connections.load() > shared_.connections_max) {
      return SendError(Status(Code::kUnavailable, "too many connections; retry shortly"),
                       request_id);
    }
    auto& in = parser_->get();
    shared_.in_flight.fetch_add(1);
    shared_.unanswered.fetch_add(1);
    // The request lives in the session until it is answered; the answer may come from another
    // thread (a write answers once durable) and is sent from this connection's strand.
    ToRequest(in, std::move(request_id), request_);
    unsigned version = in.version();
    bool keep_alive = in.keep_alive();
    bool head = in.method() == http::verb::head;
    shared_.handler(request_, [self = shared_from_this(), version, keep_alive, head](Response r) {
      asio::dispatch(self->socket_.get_executor(),
                     [self, r = std::move(r), version, keep_alive, head]() mutable {
                       bool keep = keep_alive && !self->shared_.stopping.load();
                       self->Send(std::move(r), version, keep, head, true);
                     });
      self->shared_.unanswered.fetch_sub(1);
    });
  }

  void SendError(const Status& status, const std::string& request_id) {
    shared_.in_flight.fetch_add(1);
    Response r = Problem(status);
    r.headers.emplace_back("X-Request-Id", request_id);
    spdlog::info("request_id={} refused: {}", request_id, status.message());
    Send(std::move(r), 11, false, false, true);
  }

  // The status line and headers are written as text: on the flash-sale path Beast's header
  // container and serializer cost more than everything else about the answer.
  void Send(Response r, unsigned version, bool keep_alive, bool head, bool counted) {
    head_.clear();
    head_.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(r.status));
    beast::string_view reason = http::obsolete_reason(static_cast<http::status>(r.status));
    head_.append(" ").append(reason.data(), reason.size());
    head_.append("\r\nServer: tandem\r\nContent-Type: ").append(r.content_type);
    head_.append("\r\nCache-Control: no-store\r\n");
    for (const auto& [name, value] : r.headers) {
      head_.append(name).append(": ").append(value).append("\r\n");
    }
    // HTTP/1.1 connections stay open unless told otherwise; HTTP/1.0 ones close unless told.
    if (version == 10 && keep_alive) head_.append("Connection: keep-alive\r\n");
    if (version != 10 && !keep_alive) head_.append("Connection: close\r\n");
    head_.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n\r\n");
    body_ = head ? std::string() : std::move(r.body);
    std::array<asio::const_buffer, 2> out{asio::buffer(head_), asio::buffer(body_)};
    BeginIo();
    asio::async_write(socket_, out,
                      [self = shared_from_this(), keep_alive, counted](beast::error_code ec,
                                                                      std::size_t) {
                        self->io_pending_ = false;
                        if (counted) self->shared_.in_flight.fetch_sub(1);
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    closed_ = true;
    watchdog_.cancel();  // lets go of the session
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  Socket socket_;
  Watchdog watchdog_;
  std::chrono::steady_clock::time_point deadline_;
  bool io_pending_ = false;
  bool watchdog_armed_ = false;
  bool closed_ = false;
  size_t body_limit_ = kUploadBodyBytesMax;  // of the request being read
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  std::string head_;  // the answer being sent: status line and headers, then the body
  std::string body_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, RequestHandler handler)
      : options_(std::move(options)),
        ioc_(options_.threads),
        acceptor_(ioc_),
        signals_(ioc_, SIGINT, SIGTERM),
        timer_(ioc_) {
    shared_.handler = std::move(handler);
    shared_.id_prefix = RandomCode(6);
    shared_.request_time = std::chrono::seconds(options_.request_seconds);
    shared_.connections_max = options_.connections_max;
  }

  Status Start() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return Status(Code::kInvalidArgument, "bad listen address " + options_.host);
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status(Code::kUnavailable, "listen on " + options_.host + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    Accept();
    signals_.async_wait([this](beast::error_code e, int) {
      if (!e) BeginStop();
    });
    return Status::Ok();
  }

  uint16_t port() const { return port_; }

  void Run() {
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
    // Requests still with a handler past the grace period answer into the stopped io_context,
    // which must outlive them: wait for the last one (queued writes always finish).
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(kUnansweredWaitSeconds);
    while (shared_.unanswered.load() > 0) {
      if (std::chrono::steady_clock::now() > give_up) {
        spdlog::error("{} request(s) still unanswered {} s after the stop; exiting anyway",
                      shared_.unanswered.load(), kUnansweredWaitSeconds);
        std::fflush(nullptr);
        std::_Exit(1);  // never destroy the io_context under an answer that may still come
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  void Stop() { asio::post(ioc_, [this] { BeginStop(); }); }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, Socket s) {
      if (ec) {
        if (ec == asio::error::operation_aborted || shared_.stopping.load()) return;
        spdlog::warn("accept failed: {}", ec.message());
      } else {
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(s), shared_)->Start();
      }
      Accept();
    });
  }

  void BeginStop() {
    if (shared_.stopping.exchange(true)) return;
    spdlog::info("stopping: no new connections; waiting for {} in-flight request(s)",
                 shared_.in_flight.load());
    beast::error_code ignored;
    acceptor_.close(ignored);
    signals_.cancel();
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(options_.stop_grace_seconds);
    WaitForInFlight();
  }

  void WaitForInFlight() {
    if (shared_.in_flight.load() == 0 || std::chrono::steady_clock::now() >= deadline_) {
      ioc_.stop();
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(20));
    timer_.async_wait([this](beast::error_code) { WaitForInFlight(); });
  }

  ServerOptions options_;
  // Before ioc_: sessions still queued in the stopped io_context are destroyed with it and
  // reach shared_ on their way out.
  Shared shared_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer timer_;
  uint16_t port_ = 0;
  std::chrono::steady_clock::time_point deadline_;
};

HttpServer::HttpServer(ServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() = default;
Status HttpServer::Start() { return impl_->Start(); }
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace tandem::api
