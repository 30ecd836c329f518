// tandem-loadgen: Tandem's HTTP/1.1 load generator, seeder and order verifier (Boost.Asio).
//
//   tandem-loadgen [run] --scenario flash|browse|healthz|login|signup --connections N
//                  --duration-seconds S
//                  [--rate SESSIONS_PER_S] [--skus LIST|FILE] [--products LIST|FILE|A-B]
//                  [--json FILE] [--orders FILE] [--seed N] [--threads T] [--max-requests N]
//                  [--server-pid PID]
//   tandem-loadgen seed   --admin-email E --admin-password P --manifest FILE [--skus 10000] ...
//   tandem-loadgen verify --admin-email E --admin-password P --orders FILE[,FILE...] [--json FILE]
//
// `run` keeps N keep-alive connections busy. Closed loop (default): each connection starts its
// next session as soon as the previous one ends. Open loop (--rate R): sessions are due at fixed
// times t0 + i/R; an idle connection takes the next due session. The latency of a session's first
// request and of the whole session ("session") is measured from the time it was due, not from the
// time it was sent, so a slow server cannot hide its queueing delay (no coordinated omission).
// Later requests of a session depend on the answer before them and are timed from their send.
//
// Sessions: flash   = POST /carts, POST /carts/{id}/items (1 unit of a random --skus SKU),
//                     POST /carts/{id}/checkout (cash on delivery); stops early on a refusal.
//           browse  = GET /products?q=WORD&limit=10, GET /products/{id}, POST /carts/{id}/items
//                     (a random --skus SKU into the connection's cart, a new cart every 20 adds),
//                     GET /carts/{id}.
//           healthz = GET /healthz (the ceiling: the server's cheapest request).
//           login   = POST /auth/login as one of --accounts customers made by `seed --customers`
//                     (shopper-PREFIX-I@bench.example.my, --account-password).
//           signup  = POST /customers with an e-mail of its own.
// Logins and sign-ups refused with 503 are also recorded as "refused" (their latency); one
// without Retry-After counts as the error "503_without_retry_after".
// At the end of the duration (or past --max-requests) no session starts; those under way finish
// (bounded by --drain-seconds). The report (stdout table, --json) gives per request kind the
// count, throughput, status counts and latency p50/p90/p99/p99.9/max, throughput and latency
// per second, transport errors, and the ids of the orders answered 201 (--orders: "id sku" lines).
// --server-pid PID: the server's CPU time (user + system, /proc/PID/stat, all threads; and per
// thread name from /proc/PID/task) from the clock's start to the end of the drain, the span in
// which every counted checkout was made, without connecting and warming up ("server_cpu").

// clang-format off
#include <utility>  // first: Boost 1.74's asio/awaitable.hpp uses std::exchange without including it
// clang-format on

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using Micros = std::chrono::microseconds;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "tandem-loadgen: %s\n", message.c_str());
  std::exit(2);
}

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string command = "run";
  std::string host = "127.0.0.1";
  int port = 8080;
  int connections = 64;
  int threads = 1;
  double duration_seconds = 10;
  double drain_seconds = -1;  // default: timeout + 2
  double rate = 0;            // sessions per second; 0: closed loop
  std::string scenario = "flash";
  std::string skus;
  std::string products;
  uint64_t seed = 1;
  uint64_t max_requests = 20'000'000;
  int timeout_ms = 15'000;
  std::string json_path;
  std::string orders_path;
  std::string label;
  bool quiet = false;
  int server_pid = 0;  // 0: the server's CPU is not read
  // seed
  std::string admin_email;
  std::string admin_password;
  std::string manifest_path;
  int seed_skus = 10'000;
  int variants_per_product = 10;
  int stores = 4;
  int dcs = 1;
  int hot = 20;
  int64_t hot_stock = 100'000;
  int sellout = 1;
  int64_t sellout_stock = 1'000;
  int64_t dc_stock = 50;
  int64_t store_stock = 10;
  std::string prefix = "B";
  // login / signup, and seed --customers
  int accounts = 0;
  std::string account_password = "bench-shopper-password";
};

void Usage() {
  std::puts(
      "usage: tandem-loadgen [run|seed|verify] [options]\n"
      "common:  --host H (127.0.0.1) --port P (8080) --connections N (64)\n"
      "         --timeout-ms MS (15000) --quiet\n"
      "run:     --scenario flash|browse|healthz|login|signup (flash) --duration-seconds S (10)\n"
      "         --threads T (1) --seed N (1) --json FILE\n"
      "         --rate SESSIONS_PER_S (0 = closed loop) --max-requests N (20000000)\n"
      "         --skus A,B,..|FILE --products 1,2,..|FILE|FIRST-LAST --orders FILE\n"
      "         --drain-seconds S (timeout + 2) --label TEXT --server-pid PID\n"
      "         --accounts N (login: the customers seeded) --account-password P\n"
      "seed:    --admin-email E --admin-password P --manifest FILE --skus N (10000)\n"
      "         --variants-per-product V (10) --stores N (4) --dcs N (1) --hot N (20)\n"
      "         --hot-stock Q (100000) --sellout N (1) --sellout-stock Q (1000)\n"
      "         --dc-stock Q (50) --store-stock Q (10) --prefix P (B) --seed N (1)\n"
      "         --customers N (0: customer accounts, signed up 4 at a time)\n"
      "verify:  --admin-email E --admin-password P --orders FILE[,FILE...] --json FILE");
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  int i = 1;
  if (argc > 1 && argv[1][0] != '-') {
    o.command = argv[1];
    i = 2;
  }
  if (o.command != "run" && o.command != "seed" && o.command != "verify") {
    Usage();
    Die("unknown command " + o.command);
  }
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) Die("missing value after " + arg);
      return argv[++i];
    };
    auto num = [&]() -> double {
      std::string v = next();
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !std::isfinite(d)) Die("bad number for " + arg + ": " + v);
      return d;
    };
    auto integer = [&](int64_t lo, int64_t hi) -> int64_t {
      double d = num();
      if (d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
        Die(arg + " must be an integer between " + std::to_string(lo) + " and " +
            std::to_string(hi));
      }
      return static_cast<int64_t>(d);
    };
    if (arg == "--help" || arg == "-h") {
      Usage();
      std::exit(0);
    } else if (arg == "--host") {
      o.host = next();
    } else if (arg == "--port") {
      o.port = static_cast<int>(integer(1, 65535));
    } else if (arg == "--connections") {
      o.connections = static_cast<int>(integer(1, 50'000));
    } else if (arg == "--threads") {
      o.threads = static_cast<int>(integer(1, 64));
    } else if (arg == "--duration-seconds") {
      o.duration_seconds = num();
      if (o.duration_seconds <= 0 || o.duration_seconds > 3600) Die("--duration-seconds: 0-3600");
    } else if (arg == "--drain-seconds") {
      o.drain_seconds = num();
      if (o.drain_seconds < 0 || o.drain_seconds > 600) Die("--drain-seconds: 0-600");
    } else if (arg == "--rate") {
      o.rate = num();
      if (o.rate < 0 || o.rate > 10'000'000) Die("--rate: 0-10000000");
    } else if (arg == "--scenario") {
      o.scenario = next();
    } else if (arg == "--skus") {
      o.skus = next();  // `seed` takes a count, `run` a list or a file
    } else if (arg == "--products") {
      o.products = next();
    } else if (arg == "--seed") {
      o.seed = static_cast<uint64_t>(integer(0, INT64_MAX));
    } else if (arg == "--max-requests") {
      o.max_requests = static_cast<uint64_t>(integer(1, INT64_MAX));
    } else if (arg == "--timeout-ms") {
      o.timeout_ms = static_cast<int>(integer(1, 600'000));
    } else if (arg == "--json") {
      o.json_path = next();
    } else if (arg == "--orders") {
      o.orders_path = next();
    } else if (arg == "--label") {
      o.label = next();
    } else if (arg == "--quiet") {
      o.quiet = true;
    } else if (arg == "--server-pid") {
      o.server_pid = static_cast<int>(integer(1, INT32_MAX));
    } else if (arg == "--admin-email") {
      o.admin_email = next();
    } else if (arg == "--admin-password") {
      o.admin_password = next();
    } else if (arg == "--manifest") {
      o.manifest_path = next();
    } else if (arg == "--variants-per-product") {
      o.variants_per_product = static_cast<int>(integer(1, 100));
    } else if (arg == "--stores") {
      o.stores = static_cast<int>(integer(0, 100));
    } else if (arg == "--dcs") {
      o.dcs = static_cast<int>(integer(1, 100));
    } else if (arg == "--hot") {
      o.hot = static_cast<int>(integer(0, 100));
    } else if (arg == "--hot-stock") {
      o.hot_stock = integer(0, 1'000'000);
    } else if (arg == "--sellout") {
      o.sellout = static_cast<int>(integer(0, 100));
    } else if (arg == "--sellout-stock") {
      o.sellout_stock = integer(0, 1'000'000);
    } else if (arg == "--dc-stock") {
      o.dc_stock = integer(0, 1'000'000);
    } else if (arg == "--store-stock") {
      o.store_stock = integer(0, 1'000'000);
    } else if (arg == "--prefix") {
      o.prefix = next();
    } else if (arg == "--accounts" || arg == "--customers") {
      o.accounts = static_cast<int>(integer(0, 1'000'000));
    } else if (arg == "--account-password") {
      o.account_password = next();
    } else {
      Usage();
      Die("unknown option " + arg);
    }
  }
  if (o.drain_seconds < 0) o.drain_seconds = o.timeout_ms / 1000.0 + 2;
  return o;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "a,b,c", a file with one entry per line (or separated by commas/spaces), or "FIRST-LAST" when
// `ranges` (numbers).
std::vector<std::string> ParseList(const std::string& spec, bool ranges) {
  std::vector<std::string> out;
  if (spec.empty()) return out;
  std::string text = spec;
  if (spec.find(',') == std::string::npos) {
    std::ifstream probe(spec);
    if (probe) {
      text = ReadFile(spec);
    } else if (ranges) {
      size_t dash = spec.find('-');
      if (dash != std::string::npos && dash > 0) {
        long long first = std::atoll(spec.substr(0, dash).c_str());
        long long last = std::atoll(spec.substr(dash + 1).c_str());
        if (first < 1 || last < first || last - first > 10'000'000) Die("bad range " + spec);
        for (long long v = first; v <= last; ++v) out.push_back(std::to_string(v));
        return out;
      }
    }
  }
  std::string cur;
  for (char c : text) {
    if (c == ',' || c == '\n' || c == '\r' || c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Latency histogram: exact below 128 us, then 64 sub-buckets per power of two (< 1.6 % error),
// up to 2^32 us. Empty until the first value (many per-second histograms stay unused).

class Histogram {
 public:
  static constexpr int kLinear = 128;
  static constexpr int kSub = 64;
  static constexpr int kBuckets = kLinear + (32 - 7) * kSub;

  void Record(uint64_t us) {
    if (counts_.empty()) counts_.assign(kBuckets, 0);
    ++counts_[Index(us)];
    ++total_;
    sum_ += us;
    max_ = std::max(max_, us);
  }
  void Merge(const Histogram& other) {
    if (other.total_ == 0) return;
    if (counts_.empty()) counts_.assign(kBuckets, 0);
    for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
  }
  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }
  double mean() const { return total_ ? static_cast<double>(sum_) / total_ : 0; }
  // The highest value equivalent to the bucket holding the p-th percentile (capped at the max).
  uint64_t Percentile(double p) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_)));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(UpperOf(i), max_);
    }
    return max_;
  }

 private:
  static int Index(uint64_t v) {
    if (v < kLinear) return static_cast<int>(v);
    if (v >= (uint64_t{1} << 32)) v = (uint64_t{1} << 32) - 1;
    int msb = 63 - __builtin_clzll(v);  // >= 7
    int shift = msb - 6;
    int top = static_cast<int>(v >> shift);  // 64..127
    return kLinear + (msb - 7) * kSub + (top - kSub);
  }
  static uint64_t UpperOf(int i) {
    if (i < kLinear) return static_cast<uint64_t>(i);
    int msb = (i - kLinear) / kSub + 7;
    int top = (i - kLinear) % kSub + kSub;
    int shift = msb - 6;
    return ((static_cast<uint64_t>(top) + 1) << shift) - 1;
  }

  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Statistics, one instance per worker thread, merged at the end.

enum Kind : int {
  kCartCreate,
  kCartAdd,
  kCheckout,
  kSearch,
  kProduct,
  kCartView,
  kHealthz,
  kLogin,
  kSignup,
  kSession,
  kRefused,  // a login or sign-up answered 503, recorded under its kind as well
  kKinds
};
constexpr std::array<const char*, kKinds> kKindNames{
    "cart_create", "cart_add", "checkout", "search",  "product", "cart_view",
    "healthz",     "login",    "signup",   "session", "refused"};
// Whether a kind counts requests (the others count sessions, or requests counted already).
constexpr bool IsRequestKind(int kind) { return kind != kSession && kind != kRefused; }

struct KindStats {
  Histogram latency;
  std::map<int, uint64_t> statuses;  // 0: no HTTP answer (see errors)
};

struct Second {
  std::array<uint64_t, kKinds> count{};
  uint64_t requests = 0;
  uint64_t checkouts_ok = 0;
  std::array<Histogram, kKinds> latency;
  Histogram all;  // every request kind, not sessions
};

struct OrderRecord {
  int64_t id;
  std::string sku;
};

struct Stats {
  std::array<KindStats, kKinds> kinds;
  std::vector<Second> seconds;
  std::map<std::string, uint64_t> errors;
  uint64_t sessions_started = 0;
  uint64_t sessions_ok = 0;
  uint64_t checkouts_ok = 0;
  std::vector<OrderRecord> orders;

  Second& At(SteadyClock::time_point t0, SteadyClock::time_point when) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(when - t0).count();
    size_t idx = static_cast<size_t>(std::clamp<int64_t>(s, 0, 7200));
    if (seconds.size() <= idx) seconds.resize(idx + 1);
    return seconds[idx];
  }

  void Merge(Stats& o) {
    for (int k = 0; k < kKinds; ++k) {
      kinds[k].latency.Merge(o.kinds[k].latency);
      for (auto& [st, n] : o.kinds[k].statuses) kinds[k].statuses[st] += n;
    }
    if (seconds.size() < o.seconds.size()) seconds.resize(o.seconds.size());
    for (size_t i = 0; i < o.seconds.size(); ++i) {
      Second& a = seconds[i];
      Second& b = o.seconds[i];
      for (int k = 0; k < kKinds; ++k) {
        a.count[k] += b.count[k];
        a.latency[k].Merge(b.latency[k]);
      }
      a.requests += b.requests;
      a.checkouts_ok += b.checkouts_ok;
      a.all.Merge(b.all);
    }
    for (auto& [e, n] : o.errors) errors[e] += n;
    sessions_started += o.sessions_started;
    sessions_ok += o.sessions_ok;
    checkouts_ok += o.checkouts_ok;
    orders.insert(orders.end(), o.orders.begin(), o.orders.end());
  }
};

// ---------------------------------------------------------------------------------------------
// A minimal reader of top-level JSON members (the answers are trusted; no full parse on the hot
// path). Returns the raw text of a number or the contents of a string; empty if absent.

// The e-mail of the i-th customer made by `seed --customers` (1-based).
std::string ShopperEmail(const std::string& prefix, int i) {
  return "shopper-" + prefix + "-" + std::to_string(i) + "@bench.example.my";
}

std::string_view TopField(std::string_view s, std::string_view key) {
  int depth = 0;
  bool expect_key = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != '"') j += (s[j] == '\\') ? 2 : 1;
      if (j >= s.size()) return {};
      std::string_view str = s.substr(i + 1, j - i - 1);
      i = j;
      if (depth == 1 && expect_key) {
        expect_key = false;
        size_t k = i + 1;
        while (k < s.size() && (s[k] == ' ' || s[k] == ':' || s[k] == '\n' || s[k] == '\t')) ++k;
        if (str == key && k < s.size()) {
          if (s[k] == '"') {
            size_t e = k + 1;
            while (e < s.size() && s[e] != '"') e += (s[e] == '\\') ? 2 : 1;
            if (e >= s.size()) return {};
            return s.substr(k + 1, e - k - 1);
          }
          size_t e = k;
          while (e < s.size() && s[e] != ',' && s[e] != '}' && s[e] != ' ' && s[e] != '\n') ++e;
          return s.substr(k, e - k);
        }
        i = k - 1;
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
      if (c == '{' && depth == 1) expect_key = true;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return {};
}

int64_t ToInt(std::string_view v) {
  int64_t out = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    out = out * 10 + (c - '0');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One keep-alive HTTP/1.1 connection.

struct Target {
  std::string host_header;
  tcp::endpoint endpoint;
  std::chrono::milliseconds timeout;
};

struct HttpResult {
  int status = 0;  // 0: no answer; see error
  bool retry_after = false;  // the answer has a Retry-After header
  std::string body;
  const char* error = nullptr;
};

// The answer's head is parsed by hand (status line, Content-Length, Connection) from a buffer of
// the client's own, and a request's time limit is kept by a watchdog timer armed about once per
// time limit instead of for every socket operation. With Beast's parser and stream timers the
// load generator took 14-16 us of CPU per request, on the cores it shares with the server; now
// 10-11 (70 % of it the kernel's TCP path).
class Client {
 public:
  Client(asio::any_io_executor ex, const Target& target)
      : socket_(ex), watchdog_(ex), target_(target), in_(kReadChunk) {}

  bool is_open() const { return open_; }

  bool ConnectBlocking() {
    error_code ec;
    socket_.connect(target_.endpoint, ec);
    if (ec) {
      socket_.close(ec);
      return false;
    }
    socket_.set_option(tcp::no_delay(true), ec);
    open_ = true;
    return true;
  }

  awaitable<bool> Connect() {
    error_code ec;
    Begin();
    co_await socket_.async_connect(target_.endpoint, asio::redirect_error(use_awaitable, ec));
    busy_ = false;
    if (ec) {
      Close();
      co_return false;
    }
    socket_.set_option(tcp::no_delay(true), ec);
    open_ = true;
    co_return true;
  }

  void Close() {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    in_len_ = 0;
    open_ = false;
  }

  // Stops the watchdog; call it when the client sends nothing more, so that its io_context can
  // run out of work.
  void Idle() {
    ++watchdog_generation_;
    armed_ = false;
    watchdog_.cancel();
  }

  void Cancel() {
    Close();
    Idle();
  }

  // `headers`: extra header lines, each ending in "\r\n".
  awaitable<HttpResult> Send(std::string_view method, std::string_view target,
                             std::string_view headers, std::string_view body) {
    HttpResult result;
    out_.clear();
    out_.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
    out_.append(target_.host_header).append("\r\n").append(headers);
    if (!body.empty() || method == "POST") {
      out_.append("Content-Type: application/json\r\nContent-Length: ");
      out_.append(std::to_string(body.size())).append("\r\n");
    }
    out_.append("\r\n").append(body);
    error_code ec;
    Begin();
    co_await asio::async_write(socket_, asio::buffer(out_),
                               asio::redirect_error(use_awaitable, ec));
    if (ec) co_return Fail(result, ec, "write");

    // The head: up to the empty line.
    size_t head_end = 0;
    for (size_t scanned = 0;;) {
      std::string_view have(in_.data(), in_len_);
      size_t at = have.find("\r\n\r\n", scanned);
      if (at != std::string_view::npos) {
        head_end = at + 4;
        break;
      }
      scanned = in_len_ >= 3 ? in_len_ - 3 : 0;
      if (in_len_ > kHeadBytesMax) co_return Fail(result, {}, "bad_answer");
      co_await ReadMore(ec);
      if (ec) co_return Fail(result, ec, "read");
    }
    Head head = ParseHead(std::string_view(in_.data(), head_end));
    if (!head.ok) co_return Fail(result, {}, "bad_answer");
    bool no_body = head.status < 200 || head.status == 204 || head.status == 304 ||
                   method == "HEAD";
    size_t body_bytes = 0;
    if (!no_body && head.content_length) {
      if (*head.content_length > kBodyBytesMax) co_return Fail(result, {}, "bad_answer");
      body_bytes = *head.content_length;
    } else if (!no_body) {
      co_return Fail(result, {}, "bad_answer");  // Tandem always sends Content-Length
    }
    while (in_len_ < head_end + body_bytes) {
      co_await ReadMore(ec);
      if (ec) co_return Fail(result, ec, "read");
    }
    busy_ = false;
    result.status = head.status;
    result.retry_after = head.retry_after;
    result.body.assign(in_.data() + head_end, body_bytes);
    // Keep whatever followed the answer (nothing, unless the server sent more than asked).
    size_t used = head_end + body_bytes;
    std::memmove(in_.data(), in_.data() + used, in_len_ - used);
    in_len_ -= used;
    if (!head.keep_alive) Close();
    co_return result;
  }

 private:
  static constexpr size_t kReadChunk = 16 * 1024;
  static constexpr size_t kHeadBytesMax = 64 * 1024;
  static constexpr size_t kBodyBytesMax = 64 * 1024 * 1024;

  struct Head {
    bool ok = false;
    int status = 0;
    std::optional<size_t> content_length;
    bool keep_alive = true;
    bool retry_after = false;
  };

  static bool SameWord(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != lower[i]) return false;
    }
    return true;
  }

  static std::string_view Trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  }

  // "HTTP/1.x NNN reason\r\n", then "Name: value\r\n" lines; `text` ends with the empty line.
  static Head ParseHead(std::string_view text) {
    Head head;
    size_t eol = text.find("\r\n");
    std::string_view line = text.substr(0, eol);
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return head;
    bool http10 = line[7] == '0';
    for (int i = 9; i < 12; ++i) {
      if (line[i] < '0' || line[i] > '9') return head;
      head.status = head.status * 10 + (line[i] - '0');
    }
    head.keep_alive = !http10;
    for (size_t pos = eol + 2; pos < text.size();) {
      size_t end = text.find("\r\n", pos);
      line = text.substr(pos, end - pos);
      pos = end + 2;
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return Head{};
      std::string_view name = line.substr(0, colon);
      std::string_view value = Trim(line.substr(colon + 1));
      if (SameWord(name, "content-length")) {
        size_t n = 0;
        if (value.empty() || value.size() > 12) return Head{};
        for (char c : value) {
          if (c < '0' || c > '9') return Head{};
          n = n * 10 + static_cast<size_t>(c - '0');
        }
        head.content_length = n;
      } else if (SameWord(name, "connection")) {
        if (SameWord(value, "close")) head.keep_alive = false;
        if (SameWord(value, "keep-alive")) head.keep_alive = true;
      } else if (SameWord(name, "retry-after")) {
        head.retry_after = true;
      } else if (SameWord(name, "transfer-encoding")) {
        return Head{};  // Tandem never sends chunked answers
      }
    }
    head.ok = true;
    return head;
  }

  awaitable<void> ReadMore(error_code& ec) {
    if (in_len_ == in_.size()) in_.resize(in_.size() * 2);
    size_t n = co_await socket_.async_read_some(
        asio::buffer(in_.data() + in_len_, in_.size() - in_len_),
        asio::redirect_error(use_awaitable, ec));
    in_len_ += n;
    if (timed_out_ && !ec) ec = asio::error::timed_out;
  }

  // A request under way: the watchdog closes the connection once `deadline_` has passed.
  void Begin() {
    deadline_ = SteadyClock::now() + target_.timeout;
    busy_ = true;
    timed_out_ = false;
    if (!armed_) Arm();
  }

  void Arm() {
    armed_ = true;
    watchdog_.expires_at(deadline_);
    watchdog_.async_wait([this, generation = watchdog_generation_](const error_code& ec) {
      if (generation != watchdog_generation_) return;  // Idle() came first
      armed_ = false;
      if (ec || !busy_) return;  // idle: armed again by the next request
      if (SteadyClock::now() < deadline_) return Arm();
      // Closed, not just cancelled: a read that completed just before would otherwise go on.
      timed_out_ = true;
      error_code ignored;
      socket_.close(ignored);
    });
  }

  HttpResult& Fail(HttpResult& result, const error_code& ec, const char* what) {
    busy_ = false;
    if (timed_out_) {
      result.error = "timeout";
    } else if (ec == asio::error::operation_aborted) {
      result.error = "cancelled";
    } else if (ec == asio::error::eof || ec == asio::error::connection_reset ||
               ec == asio::error::broken_pipe) {
      result.error = "closed_by_server";
    } else {
      result.error = what;
    }
    Close();
    return result;
  }

  tcp::socket socket_;
  asio::steady_timer watchdog_;
  const Target& target_;
  std::vector<char> in_;
  size_t in_len_ = 0;
  std::string out_;
  bool open_ = false;
  bool busy_ = false;
  bool armed_ = false;
  bool timed_out_ = false;
  uint64_t watchdog_generation_ = 0;
  SteadyClock::time_point deadline_;
};

// ---------------------------------------------------------------------------------------------
// The `run` command.

const std::array<const char*, 30> kWords{
    "batik",  "songket", "kebaya", "sarong", "tee",     "shirt",   "dress",  "scarf",
    "tudung", "kurung",  "melayu", "kopi",   "pandan",  "rattan",  "bag",    "wallet",
    "cap",    "sandals", "lamp",   "mug",    "mustard", "indigo",  "maroon", "emerald",
    "teal",   "ivory",   "coral",  "jade",   "saffron", "charcoal"};

struct Shared {
  Options opt;
  Target target;
  std::vector<std::string> skus;
  std::vector<std::string> products;
  SteadyClock::time_point t0;
  SteadyClock::time_point end;  // no session is due or starts after this
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> requests{0};
  std::string nonce;  // makes the shoppers' e-mail addresses unique to this run
};

struct Conn {
  std::unique_ptr<Client> client;
  std::unique_ptr<asio::steady_timer> timer;
  // browse: the connection's cart
  int64_t cart_id = 0;
  std::string cart_token;
  int cart_adds = 0;
};

class Worker {
 public:
  Worker(Shared& shared, int index)
      : shared_(shared), index_(index), rng_(shared.opt.seed * 7919 + index) {
    int n = shared.opt.connections / shared.opt.threads +
            (index < shared.opt.connections % shared.opt.threads ? 1 : 0);
    for (int i = 0; i < n; ++i) {
      Conn c;
      c.client = std::make_unique<Client>(ioc_.get_executor(), shared.target);
      c.timer = std::make_unique<asio::steady_timer>(ioc_);
      conns_.push_back(std::move(c));
    }
    if (shared.opt.rate > 0) interval_s_ = shared.opt.threads / shared.opt.rate;
  }

  int ConnectAll() {
    int ok = 0;
    for (auto& c : conns_) ok += c.client->ConnectBlocking() ? 1 : 0;
    return ok;
  }

  // One GET /healthz on every connection before the clock starts, so that the server has accepted
  // them all (a server busy with the first requests may accept late) and nothing is cold.
  void WarmUp() {
    for (auto& c : conns_) {
      if (!c.client->is_open()) continue;
      asio::co_spawn(
          ioc_,
          [&c]() -> awaitable<void> {
            HttpResult r = co_await c.client->Send("GET", "/healthz", {}, {});
            (void)r;
            c.client->Idle();
          },
          asio::detached);
    }
    ioc_.run();
    ioc_.restart();
  }

  void Start() {
    active_ = static_cast<int>(conns_.size());
    for (auto& c : conns_) asio::co_spawn(ioc_, Loop(c), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  int active() const { return active_.load(); }
  uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }

  void CancelAll() {
    asio::post(ioc_, [this] {
      for (auto& c : conns_) {
        c.timer->cancel();
        c.client->Cancel();
      }
    });
  }

  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  Stats& stats() { return stats_; }

 private:
  awaitable<void> Loop(Conn& c) {
    const Options& opt = shared_.opt;
    while (!shared_.stop.load(std::memory_order_relaxed)) {
      SteadyClock::time_point due = SteadyClock::now();
      if (interval_s_ > 0) {
        // Worker `index_` of T takes sessions index_, index_ + T, …: one due every 1/rate s.
        double slot = next_session_++ + static_cast<double>(index_) / shared_.opt.threads;
        due = shared_.t0 + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(interval_s_ * slot));
        if (due >= shared_.end) break;
        if (due > SteadyClock::now()) {
          c.timer->expires_at(due);
          error_code ec;
          co_await c.timer->async_wait(asio::redirect_error(use_awaitable, ec));
          if (shared_.stop.load(std::memory_order_relaxed)) break;
        }
      } else if (due >= shared_.end) {
        break;
      }
      if (!c.client->is_open()) {
        bool ok = co_await c.client->Connect();
        if (!ok) {
          ++stats_.errors["connect"];
          ++stats_.sessions_started;
          Record(kSession, 0, due, SteadyClock::now(), /*request=*/false);
          c.timer->expires_after(std::chrono::milliseconds(100));
          error_code ec;
          co_await c.timer->async_wait(asio::redirect_error(use_awaitable, ec));
          continue;
        }
        c.cart_id = 0;
      }
      ++stats_.sessions_started;
      // A session's status is that of its last answer (0: none).
      int status = 0;
      if (opt.scenario == "flash") {
        status = co_await Flash(c, due);
      } else if (opt.scenario == "browse") {
        status = co_await Browse(c, due);
      } else if (opt.scenario == "login") {
        status = co_await Login(c, due);
      } else if (opt.scenario == "signup") {
        status = co_await Signup(c, due);
      } else {
        status = co_await Healthz(c, due);
      }
      if (status >= 200 && status < 300) ++stats_.sessions_ok;
      Record(kSession, status, due, SteadyClock::now(), /*request=*/false);
    }
    c.client->Idle();
    --active_;
  }

  // Sends one request, records it under `kind`, timed from `from`.
  awaitable<HttpResult> Call(Conn& c, Kind kind, SteadyClock::time_point from,
                             std::string_view method, std::string_view target,
                             std::string_view headers = {}, std::string_view body = {}) {
    HttpResult r = co_await c.client->Send(method, target, headers, body);
    SteadyClock::time_point done = SteadyClock::now();
    if (r.error) ++stats_.errors[r.error];
    Record(kind, r.status, from, done);
    if (shared_.requests.fetch_add(1, std::memory_order_relaxed) + 1 >= shared_.opt.max_requests) {
      shared_.stop.store(true);
    }
    completed_.fetch_add(1, std::memory_order_relaxed);
    co_return r;
  }

  void Record(Kind kind, int status, SteadyClock::time_point from, SteadyClock::time_point done,
              bool request = true) {
    uint64_t us = static_cast<uint64_t>(
        std::max<int64_t>(0, std::chrono::duration_cast<Micros>(done - from).count()));
    KindStats& k = stats_.kinds[kind];
    k.latency.Record(us);
    ++k.statuses[status];
    Second& s = stats_.At(shared_.t0, done);
    ++s.count[kind];
    s.latency[kind].Record(us);
    if (request) {
      ++s.requests;
      s.all.Record(us);
    }
  }

  const std::string& Pick(const std::vector<std::string>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }

  awaitable<int> Flash(Conn& c, SteadyClock::time_point due) {
    HttpResult cart = co_await Call(c, kCartCreate, due, "POST", "/api/v1/carts");
    if (cart.status != 201) co_return cart.status;
    std::string id(TopField(cart.body, "id"));
    std::string token(TopField(cart.body, "token"));
    if (id.empty() || token.empty()) {
      ++stats_.errors["unexpected_body"];
      co_return 0;
    }
    const std::string& sku = Pick(shared_.skus);
    std::string headers = "X-Cart-Token: " + token + "\r\n";
    std::string body = "{\"sku\":\"" + sku + "\",\"quantity\":1}";
    HttpResult add = co_await Call(c, kCartAdd, SteadyClock::now(), "POST",
                                   "/api/v1/carts/" + id + "/items", headers, body);
    if (add.status != 201) co_return add.status;
    ++email_counter_;
    // Shoppers' e-mails are unrelated: a scrambled part first (one per session, so they do not
    // sort in the order they come), then the run, connection and count that keep them unique.
    char scrambled[17];
    std::snprintf(scrambled, sizeof scrambled, "%016llx",
                  static_cast<unsigned long long>(
                      ((static_cast<uint64_t>(index_) << 40) ^ email_counter_) *
                      0x9E3779B97F4A7C15ull));
    body = "{\"email\":\"" + std::string(scrambled) + "-f" + shared_.nonce + "-" +
           std::to_string(index_) + "-" + std::to_string(email_counter_) +
           "@bench.example.my\",\"name\":\"Flash Shopper\",\"payment_method\":"
           "\"cash_on_delivery\",\"address\":{\"name\":\"Flash Shopper\",\"line1\":\"12 Jalan "
           "Dua Belas\",\"city\":\"Kuala Lumpur\",\"postcode\":\"50450\",\"country\":\"MY\"}}";
    HttpResult order = co_await Call(c, kCheckout, SteadyClock::now(), "POST",
                                     "/api/v1/carts/" + id + "/checkout", headers, body);
    if (order.status != 201) co_return order.status;
    int64_t order_id = ToInt(TopField(order.body, "id"));
    if (order_id <= 0) {
      ++stats_.errors["unexpected_body"];
      co_return 0;
    }
    ++stats_.checkouts_ok;
    ++stats_.At(shared_.t0, SteadyClock::now()).checkouts_ok;
    stats_.orders.push_back({order_id, sku});
    co_return 201;
  }

  awaitable<int> Browse(Conn& c, SteadyClock::time_point due) {
    std::string q =
        std::string("/api/v1/products?q=") + kWords[rng_() % kWords.size()] + "&limit=10";
    HttpResult search = co_await Call(c, kSearch, due, "GET", q);
    if (search.status != 200) co_return search.status;
    if (!shared_.products.empty()) {
      HttpResult product = co_await Call(c, kProduct, SteadyClock::now(), "GET",
                                         "/api/v1/products/" + Pick(shared_.products));
      if (product.status != 200) co_return product.status;
    }
    if (shared_.skus.empty()) co_return 200;
    if (c.cart_id == 0 || c.cart_adds >= 20) {
      HttpResult cart = co_await Call(c, kCartCreate, SteadyClock::now(), "POST", "/api/v1/carts");
      if (cart.status != 201) co_return cart.status;
      c.cart_id = ToInt(TopField(cart.body, "id"));
      c.cart_token = std::string(TopField(cart.body, "token"));
      c.cart_adds = 0;
      if (c.cart_id <= 0 || c.cart_token.empty()) {
        ++stats_.errors["unexpected_body"];
        c.cart_id = 0;
        co_return 0;
      }
    }
    std::string headers = "X-Cart-Token: " + c.cart_token + "\r\n";
    std::string path = "/api/v1/carts/" + std::to_string(c.cart_id);
    ++c.cart_adds;
    HttpResult add =
        co_await Call(c, kCartAdd, SteadyClock::now(), "POST", path + "/items", headers,
                      "{\"sku\":\"" + Pick(shared_.skus) + "\",\"quantity\":1}");
    if (add.status != 201 && add.status != 409) co_return add.status;
    HttpResult view = co_await Call(c, kCartView, SteadyClock::now(), "GET", path, headers);
    co_return view.status;
  }

  awaitable<int> Healthz(Conn& c, SteadyClock::time_point due) {
    HttpResult r = co_await Call(c, kHealthz, due, "GET", "/healthz");
    co_return r.status;
  }

  // A password-hashing request: a 503 is recorded as "refused" too, and must carry Retry-After.
  awaitable<int> Hashing(Conn& c, Kind kind, SteadyClock::time_point due, std::string_view target,
                         const std::string& body) {
    HttpResult r = co_await Call(c, kind, due, "POST", target, {}, body);
    if (r.status == 503) {
      Record(kRefused, r.status, due, SteadyClock::now(), /*request=*/false);
      if (!r.retry_after) ++stats_.errors["503_without_retry_after"];
    }
    co_return r.status;
  }

  awaitable<int> Login(Conn& c, SteadyClock::time_point due) {
    int i = std::uniform_int_distribution<int>(1, shared_.opt.accounts)(rng_);
    std::string body = "{\"email\":\"" + ShopperEmail(shared_.opt.prefix, i) +
                       "\",\"password\":\"" + shared_.opt.account_password + "\"}";
    co_return co_await Hashing(c, kLogin, due, "/api/v1/auth/login", body);
  }

  awaitable<int> Signup(Conn& c, SteadyClock::time_point due) {
    ++email_counter_;
    std::string body = "{\"email\":\"signup-" + shared_.nonce + "-" + std::to_string(index_) +
                       "-" + std::to_string(email_counter_) +
                       "@bench.example.my\",\"name\":\"Storm Shopper\",\"password\":\"" +
                       shared_.opt.account_password + "\"}";
    co_return co_await Hashing(c, kSignup, due, "/api/v1/customers", body);
  }

  Shared& shared_;
  int index_;
  asio::io_context ioc_{1};
  std::vector<Conn> conns_;
  Stats stats_;
  std::mt19937_64 rng_;
  double interval_s_ = 0;
  uint64_t next_session_ = 0;
  uint64_t email_counter_ = 0;
  std::atomic<int> active_{0};
  std::atomic<uint64_t> completed_{0};
  std::thread thread_;
};

double Ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

Json LatencyJson(const Histogram& h) {
  return Json{{"p50", Ms(h.Percentile(50))}, {"p90", Ms(h.Percentile(90))},
              {"p99", Ms(h.Percentile(99))}, {"p99_9", Ms(h.Percentile(99.9))},
              {"max", Ms(h.max())},          {"mean", h.mean() / 1000.0}};
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) Die("cannot write " + path);
  out << text;
}

// utime + stime (clock ticks) from a /proc/.../stat file; -1 when it cannot be read.
int64_t StatTicks(const std::filesystem::path& stat) {
  std::string text;
  std::getline(std::ifstream(stat), text);
  size_t paren = text.rfind(')');  // the name in parentheses may hold spaces
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 1));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 0; i <= 12 && fields >> field; ++i) {  // after the name: state, ..., utime, stime
    if (i == 11) utime = std::strtoll(field.c_str(), nullptr, 10);
    if (i == 12) stime = std::strtoll(field.c_str(), nullptr, 10);
  }
  return fields ? utime + stime : -1;
}

// A process's CPU time: all its threads (/proc/PID/stat) and each thread with its name.
struct CpuTicks {
  int64_t process = -1;
  std::map<std::string, std::pair<std::string, int64_t>> threads;  // tid: (comm, ticks)
};

CpuTicks ReadCpuTicks(int pid) {
  CpuTicks t;
  if (pid <= 0) return t;
  std::filesystem::path proc = "/proc/" + std::to_string(pid);
  t.process = StatTicks(proc / "stat");
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(proc / "task", ec)) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    int64_t ticks = StatTicks(task.path() / "stat");
    if (ticks >= 0) t.threads[task.path().filename().string()] = {comm, ticks};
  }
  return t;
}

// From `start` to `end`: {"seconds", "thread_seconds": {comm: seconds, threads of a name summed}}
// (a thread gone by `end` counts in "seconds" only); null when the process could not be read.
Json CpuJson(int pid, const CpuTicks& start, const CpuTicks& end) {
  if (start.process < 0 || end.process < 0) return nullptr;
  double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::map<std::string, int64_t> by_name;
  for (const auto& [tid, thread] : end.threads) {
    auto it = start.threads.find(tid);
    by_name[thread.first] += thread.second - (it == start.threads.end() ? 0 : it->second.second);
  }
  Json names = Json::object();
  for (const auto& [name, ticks] : by_name) names[name] = static_cast<double>(ticks) / hz;
  return Json{{"pid", pid},
              {"seconds", static_cast<double>(end.process - start.process) / hz},
              {"thread_seconds", names}};
}

void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

Target ResolveTarget(const Options& opt) {
  Target t;
  error_code ec;
  auto address = asio::ip::make_address(opt.host, ec);
  if (ec) Die("--host must be an IP address: " + opt.host);
  t.endpoint = tcp::endpoint(address, static_cast<unsigned short>(opt.port));
  t.host_header = opt.host + ":" + std::to_string(opt.port);
  t.timeout = std::chrono::milliseconds(opt.timeout_ms);
  return t;
}

int Run(const Options& opt) {
  if (opt.scenario != "flash" && opt.scenario != "browse" && opt.scenario != "healthz" &&
      opt.scenario != "login" && opt.scenario != "signup") {
    Die("--scenario must be flash, browse, healthz, login or signup");
  }
  if (opt.scenario == "login" && opt.accounts < 1) Die("login needs --accounts N (seeded)");
  Shared shared;
  shared.opt = opt;
  shared.target = ResolveTarget(opt);
  shared.skus = ParseList(opt.skus, false);
  shared.products = ParseList(opt.products, true);
  shared.nonce = std::to_string(std::random_device{}() % 1'000'000'000);
  if (opt.scenario == "flash" && shared.skus.empty()) Die("flash needs --skus");
  if (opt.threads > opt.connections) Die("--threads must not exceed --connections");

  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < opt.threads; ++i) workers.push_back(std::make_unique<Worker>(shared, i));
  int connected = 0;
  for (auto& w : workers) connected += w->ConnectAll();
  if (connected == 0) Die("cannot connect to " + shared.target.host_header);
  for (auto& w : workers) w->WarmUp();
  if (!opt.quiet && connected < opt.connections) {
    std::fprintf(stderr, "connected %d of %d (the others retry)\n", connected, opt.connections);
  }

  CpuTicks server_cpu_start = ReadCpuTicks(opt.server_pid);
  shared.t0 = SteadyClock::now();
  shared.end = shared.t0 + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(opt.duration_seconds));
  for (auto& w : workers) w->Start();

  // Until the duration is over (or --max-requests): print progress once per second.
  uint64_t last = 0;
  auto next_tick = shared.t0 + std::chrono::seconds(1);
  while (SteadyClock::now() < shared.end && !shared.stop.load()) {
    std::this_thread::sleep_until(std::min(next_tick, shared.end));
    if (SteadyClock::now() >= next_tick) {
      uint64_t done = 0;
      for (auto& w : workers) done += w->completed();
      if (!opt.quiet) {
        std::fprintf(
            stderr, "  t=%3llds %8llu req/s\n",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::seconds>(next_tick - shared.t0).count()),
            static_cast<unsigned long long>(done - last));
      }
      last = done;
      next_tick += std::chrono::seconds(1);
    }
  }
  auto stopped_at = SteadyClock::now();
  shared.stop.store(true);
  auto drain_deadline = stopped_at + std::chrono::duration_cast<SteadyClock::duration>(
                                         std::chrono::duration<double>(opt.drain_seconds));
  bool drained = false;
  while (SteadyClock::now() < drain_deadline) {
    int active = 0;
    for (auto& w : workers) active += w->active();
    if (active == 0) {
      drained = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!drained) {
    for (auto& w : workers) w->CancelAll();
  }
  for (auto& w : workers) w->Join();
  auto finished_at = SteadyClock::now();
  CpuTicks server_cpu_end = ReadCpuTicks(opt.server_pid);

  Stats all;
  for (auto& w : workers) all.Merge(w->stats());

  double window = std::chrono::duration<double>(stopped_at - shared.t0).count();
  double elapsed = std::chrono::duration<double>(finished_at - shared.t0).count();
  uint64_t requests = 0;
  std::map<int, uint64_t> statuses;
  uint64_t count_5xx = 0;
  Json kinds = Json::object();
  for (int k = 0; k < kKinds; ++k) {
    const KindStats& ks = all.kinds[k];
    if (ks.latency.total() == 0) continue;
    Json st = Json::object();
    for (auto& [code, n] : ks.statuses) {
      st[std::to_string(code)] = n;
      if (IsRequestKind(k)) {
        statuses[code] += n;
        if (code >= 500) count_5xx += n;
      }
    }
    if (IsRequestKind(k)) requests += ks.latency.total();
    kinds[kKindNames[k]] = Json{{"count", ks.latency.total()},
                                {"per_second", ks.latency.total() / window},
                                {"status_counts", st},
                                {"latency_ms", LatencyJson(ks.latency)}};
  }
  Json status_json = Json::object();
  for (auto& [code, n] : statuses) status_json[std::to_string(code)] = n;
  Json errors = Json::object();
  uint64_t error_count = 0;
  for (auto& [e, n] : all.errors) {
    errors[e] = n;
    error_count += n;
  }
  Json timeline = Json::array();
  for (size_t i = 0; i < all.seconds.size(); ++i) {
    const Second& s = all.seconds[i];
    Json per_kind = Json::object();
    for (int k = 0; k < kKinds; ++k) {
      if (s.count[k] == 0) continue;
      per_kind[kKindNames[k]] = Json{{"count", s.count[k]},
                                     {"p50", Ms(s.latency[k].Percentile(50))},
                                     {"p99", Ms(s.latency[k].Percentile(99))},
                                     {"max", Ms(s.latency[k].max())}};
    }
    timeline.push_back(Json{{"second", i},
                            {"in_window", static_cast<double>(i + 1) <= window + 0.5},
                            {"requests", s.requests},
                            {"checkouts_ok", s.checkouts_ok},
                            {"p50", Ms(s.all.Percentile(50))},
                            {"p90", Ms(s.all.Percentile(90))},
                            {"p99", Ms(s.all.Percentile(99))},
                            {"max", Ms(s.all.max())},
                            {"kinds", per_kind}});
  }
  Histogram req_all;
  for (int k = 0; k < kKinds; ++k) {
    if (IsRequestKind(k)) req_all.Merge(all.kinds[k].latency);
  }
  Json report{{"tool", "tandem-loadgen"},
              {"label", opt.label},
              {"scenario", opt.scenario},
              {"mode", opt.rate > 0 ? "open" : "closed"},
              {"rate", opt.rate},
              {"connections", opt.connections},
              {"threads", opt.threads},
              {"connected_at_start", connected},
              {"duration_seconds", opt.duration_seconds},
              {"window_seconds", window},
              {"elapsed_seconds", elapsed},
              {"drained", drained},
              {"requests", requests},
              {"requests_per_second", requests / window},
              {"sessions", Json{{"started", all.sessions_started}, {"ok", all.sessions_ok}}},
              {"checkouts_ok", all.checkouts_ok},
              {"checkouts_per_second", all.checkouts_ok / window},
              {"status_counts", status_json},
              {"count_5xx", count_5xx},
              {"errors", errors},
              {"error_count", error_count},
              {"latency_ms", LatencyJson(req_all)},
              {"kinds", kinds},
              {"timeline", timeline}};
  if (opt.server_pid > 0) {
    report["server_cpu"] = CpuJson(opt.server_pid, server_cpu_start, server_cpu_end);
  }

  // The table.
  std::printf(
      "scenario %s, %s loop%s, %d connections, %d loadgen thread(s), %.1f s\n",
      opt.scenario.c_str(), opt.rate > 0 ? "open" : "closed",
      opt.rate > 0
          ? (" at " + std::to_string(static_cast<long long>(opt.rate)) + " sessions/s").c_str()
          : "",
      opt.connections, opt.threads, window);
  std::printf("%-12s %9s %9s %8s %8s %8s %8s %9s  %s\n", "kind", "count", "per_s", "p50_ms",
              "p90_ms", "p99_ms", "p99.9_ms", "max_ms", "statuses");
  for (int k = 0; k < kKinds; ++k) {
    const KindStats& ks = all.kinds[k];
    if (ks.latency.total() == 0) continue;
    std::string st;
    for (auto& [code, n] : ks.statuses) {
      st += (st.empty() ? "" : " ") + std::to_string(code) + ":" + std::to_string(n);
    }
    const Histogram& h = ks.latency;
    std::printf("%-12s %9" PRIu64 " %9.0f %8.2f %8.2f %8.2f %8.2f %9.2f  %s\n", kKindNames[k],
                h.total(), h.total() / window, Ms(h.Percentile(50)), Ms(h.Percentile(90)),
                Ms(h.Percentile(99)), Ms(h.Percentile(99.9)), Ms(h.max()), st.c_str());
  }
  std::printf("requests %" PRIu64 " (%.0f/s), checkouts ok %" PRIu64 " (%.0f/s), 5xx %" PRIu64
              ", transport errors %" PRIu64 "%s\n",
              requests, requests / window, all.checkouts_ok, all.checkouts_ok / window, count_5xx,
              error_count, error_count ? (" " + errors.dump()).c_str() : "");
  std::fflush(stdout);

  if (!opt.json_path.empty()) WriteText(opt.json_path, report.dump(1) + "\n");
  if (!opt.orders_path.empty()) {
    std::string text;
    text.reserve(all.orders.size() * 16);
    for (const auto& o : all.orders) text += std::to_string(o.id) + " " + o.sku + "\n";
    WriteText(opt.orders_path, text);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// A pool of connections working through a list of requests (seed, verify). 503 and transport
// errors are retried (up to 20 times, 50 ms apart); other answers are kept as they are.

struct PoolRequest {
  std::string method;
  std::string target;
  std::string headers;
  std::string body;
};

struct PoolAnswer {
  int status = 0;
  std::string body;
};

awaitable<void> PoolLoop(Client& client, const std::vector<PoolRequest>& reqs,
                         std::vector<PoolAnswer>& answers, size_t& next, uint64_t& retries) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (next < reqs.size()) {
    size_t i = next++;
    const PoolRequest& r = reqs[i];
    for (int attempt = 0;; ++attempt) {
      if (!client.is_open()) co_await client.Connect();
      HttpResult res;
      if (client.is_open()) res = co_await client.Send(r.method, r.target, r.headers, r.body);
      if ((res.status != 0 && res.status != 503) || attempt >= 20) {
        answers[i] = PoolAnswer{res.status, std::move(res.body)};
        break;
      }
      ++retries;
      timer.expires_after(std::chrono::milliseconds(50));
      error_code ec;
      co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }
  client.Idle();
}

std::vector<PoolAnswer> RunPool(const Target& target, int connections,
                                const std::vector<PoolRequest>& reqs) {
  asio::io_context ioc{1};
  std::vector<PoolAnswer> answers(reqs.size());
  std::vector<std::unique_ptr<Client>> clients;
  size_t next = 0;
  uint64_t retries = 0;
  int n = std::max(1, std::min<int>(connections, static_cast<int>(reqs.size())));
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<Client>(ioc.get_executor(), target));
    asio::co_spawn(ioc, PoolLoop(*clients.back(), reqs, answers, next, retries), asio::detached);
  }
  ioc.run();
  return answers;
}

std::string Login(const Options& opt, const Target& target) {
  if (opt.admin_email.empty() || opt.admin_password.empty()) {
    Die("give --admin-email and --admin-password");
  }
  Json body{{"email", opt.admin_email}, {"password", opt.admin_password}};
  auto answers = RunPool(target, 1, {PoolRequest{"POST", "/api/v1/auth/login", "", body.dump()}});
  if (answers[0].status != 200) {
    Die("login failed: " + std::to_string(answers[0].status) + " " + answers[0].body);
  }
  std::string token(TopField(answers[0].body, "token"));
  if (token.empty()) Die("login answered no token");
  return token;
}

// Checks that every answer has the expected status; dies with the first few refusals otherwise.
void ExpectAll(const char* what, const std::vector<PoolAnswer>& answers, int status) {
  size_t bad = 0;
  for (const auto& a : answers) {
    if (a.status != status) {
      if (bad < 3) {
        std::fprintf(stderr, "%s: %d %s\n", what, a.status, a.body.substr(0, 300).c_str());
      }
      ++bad;
    }
  }
  if (bad) Die(std::string(what) + ": " + std::to_string(bad) + " request(s) failed");
}

int Seed(const Options& opt) {
  Target target = ResolveTarget(opt);
  if (opt.manifest_path.empty()) Die("seed needs --manifest FILE");
  int total_skus = opt.skus.empty() ? 10'000 : std::atoi(opt.skus.c_str());
  if (total_skus < opt.hot || total_skus > 1'000'000) Die("--skus must be >= --hot");
  auto started = SteadyClock::now();
  std::string token = Login(opt, target);
  std::string auth = "Authorization: Bearer " + token + "\r\n";
  const std::string& p = opt.prefix;

  // Locations: the distribution centre(s) ship online orders; stores sell in store and hand over
  // pick-ups.
  std::vector<PoolRequest> reqs;
  std::vector<std::string> codes;
  for (int i = 1; i <= opt.dcs; ++i) {
    codes.push_back(p + "-DC" + std::to_string(i));
    Json body{{"code", codes.back()},
              {"name", "Distribution centre " + std::to_string(i)},
              {"kind", "distribution_centre"},
              {"ships_orders", true},
              {"pickup", false},
              {"sells_in_store", false}};
    reqs.push_back({"POST", "/api/v1/locations", auth, body.dump()});
  }
  for (int i = 1; i <= opt.stores; ++i) {
    codes.push_back(p + "-ST" + std::to_string(i));
    Json body{{"code", codes.back()}, {"name", "Store " + std::to_string(i)},
              {"kind", "store"},      {"ships_orders", false},
              {"pickup", true},       {"sells_in_store", true}};
    reqs.push_back({"POST", "/api/v1/locations", auth, body.dump()});
  }
  auto answers = RunPool(target, opt.connections, reqs);
  ExpectAll("create location", answers, 201);
  std::vector<int64_t> dc_ids;
  std::vector<int64_t> store_ids;
  Json locations = Json::array();
  for (size_t i = 0; i < answers.size(); ++i) {
    int64_t id = ToInt(TopField(answers[i].body, "id"));
    (i < static_cast<size_t>(opt.dcs) ? dc_ids : store_ids).push_back(id);
    locations.push_back(
        Json{{"id", id},
             {"code", codes[i]},
             {"kind", i < static_cast<size_t>(opt.dcs) ? "distribution_centre" : "store"}});
  }

  // Products: one "12.12 flash deal" product with the hot variants, then products of
  // --variants-per-product variants up to --skus SKUs in all, then the sell-out product(s).
  std::mt19937_64 rng(opt.seed);
  std::vector<std::string> hot;
  std::vector<std::string> normal;
  std::vector<std::string> sellout;
  reqs.clear();
  auto product = [&](const std::string& name, const std::string& category,
                     const std::vector<std::string>& skus, int64_t price) {
    Json variants = Json::array();
    for (const auto& s : skus) {
      variants.push_back(Json{{"sku", s}, {"price", {{"amount", price}, {"currency", "MYR"}}}});
    }
    Json body{{"name", name},
              {"category", category},
              {"description", "Benchmark product " + name},
              {"variants", variants}};
    reqs.push_back({"POST", "/api/v1/products", auth, body.dump()});
  };
  if (opt.hot > 0) {
    std::vector<std::string> skus;
    for (int i = 1; i <= opt.hot; ++i) skus.push_back(p + "-HOT-" + std::to_string(i));
    hot = skus;
    product("12.12 Flash Deal Batik Tee", "flash", skus, 1212);
  }
  int remaining = total_skus - opt.hot;
  for (int n = 1; remaining > 0; ++n) {
    int v = std::min(remaining, opt.variants_per_product);
    std::vector<std::string> skus;
    for (int i = 1; i <= v; ++i) {
      skus.push_back(p + "-" + std::to_string(n) + "-" + std::to_string(i));
    }
    normal.insert(normal.end(), skus.begin(), skus.end());
    std::string name = std::string(kWords[20 + rng() % 10]) + " " + kWords[rng() % 20] + " " +
                       kWords[rng() % 20] + " no. " + std::to_string(n);
    product(name, kWords[rng() % 20], skus, 1000 + static_cast<int64_t>(rng() % 20000));
    remaining -= v;
  }
  for (int i = 1; i <= opt.sellout; ++i) {
    sellout.push_back(p + "-LAST-" + std::to_string(i));
    product("Last units songket no. " + std::to_string(i), "flash", {sellout.back()}, 9900);
  }
  answers = RunPool(target, opt.connections, reqs);
  ExpectAll("create product", answers, 201);
  Json product_ids = Json::array();
  for (const auto& a : answers) product_ids.push_back(ToInt(TopField(a.body, "id")));

  // Stock: every normal SKU at a distribution centre and one store; hot and sell-out SKUs at the
  // first distribution centre only.
  reqs.clear();
  Json stock = Json::object();
  auto adjust = [&](const std::string& sku, int64_t location, int64_t qty) {
    if (qty <= 0) return;
    Json body{{"sku", sku}, {"location_id", location}, {"delta", qty}, {"reason", "receipt"}};
    reqs.push_back({"POST", "/api/v1/inventory/adjustments", auth, body.dump()});
  };
  for (const auto& s : hot) {
    adjust(s, dc_ids[0], opt.hot_stock);
    stock[s] = opt.hot_stock;
  }
  for (const auto& s : sellout) {
    adjust(s, dc_ids[0], opt.sellout_stock);
    stock[s] = opt.sellout_stock;
  }
  for (size_t i = 0; i < normal.size(); ++i) {
    adjust(normal[i], dc_ids[i % dc_ids.size()], opt.dc_stock);
    if (!store_ids.empty()) adjust(normal[i], store_ids[i % store_ids.size()], opt.store_stock);
  }
  answers = RunPool(target, opt.connections, reqs);
  ExpectAll("stock adjustment", answers, 201);
  size_t adjustments = reqs.size();

  // Customers for the login scenario: signed up four at a time, so that they stay within the
  // server's password-hashing lane (a 503 would be retried, at most 20 times).
  reqs.clear();
  for (int i = 1; i <= opt.accounts; ++i) {
    Json body{{"email", ShopperEmail(p, i)},
              {"password", opt.account_password},
              {"name", "Shopper " + std::to_string(i)}};
    reqs.push_back({"POST", "/api/v1/customers", "", body.dump()});
  }
  if (!reqs.empty()) {
    answers = RunPool(target, std::min(opt.connections, 4), reqs);
    ExpectAll("sign-up", answers, 201);
  }

  double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  Json manifest{{"locations", locations},
                {"hot_skus", hot},
                {"sellout_skus", sellout},
                {"normal_skus", normal},
                {"product_ids", product_ids},
                {"sku_count", hot.size() + normal.size() + sellout.size()},
                {"stock", stock},
                {"adjustments", adjustments},
                {"customers", opt.accounts},
                {"seconds", seconds}};
  WriteText(opt.manifest_path, manifest.dump(1) + "\n");
  std::printf("seeded %zu SKUs in %zu products, %zu locations, %zu adjustments in %.1f s\n",
              hot.size() + normal.size() + sellout.size(), product_ids.size(), locations.size(),
              adjustments, seconds);
  if (opt.accounts > 0) std::printf("signed up %d customers\n", opt.accounts);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// `verify`: every order in the --orders files ("id sku" lines) must be found with its SKU.

int Verify(const Options& opt) {
  Target target = ResolveTarget(opt);
  auto started = SteadyClock::now();
  std::string token = Login(opt, target);
  std::string auth = "Authorization: Bearer " + token + "\r\n";
  std::vector<std::pair<int64_t, std::string>> orders;
  for (const auto& file : ParseList(opt.orders_path, false)) {
    std::istringstream in(ReadFile(file));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      int64_t id = 0;
      std::string sku;
      if (ls >> id) {
        ls >> sku;
        orders.emplace_back(id, sku);
      }
    }
  }
  std::vector<PoolRequest> reqs;
  reqs.reserve(orders.size());
  for (const auto& [id, sku] : orders) {
    reqs.push_back({"GET", "/api/v1/orders/" + std::to_string(id), auth, ""});
  }
  auto answers = RunPool(target, opt.connections, reqs);
  uint64_t found = 0;
  uint64_t wrong_sku = 0;
  std::map<int, uint64_t> statuses;
  std::vector<int64_t> missing;
  std::map<int64_t, int> seen;
  uint64_t duplicates = 0;
  for (size_t i = 0; i < answers.size(); ++i) {
    ++statuses[answers[i].status];
    if (++seen[orders[i].first] > 1) ++duplicates;
    if (answers[i].status != 200) {
      if (missing.size() < 20) missing.push_back(orders[i].first);
      continue;
    }
    ++found;
    if (!orders[i].second.empty() &&
        answers[i].body.find("\"sku\":\"" + orders[i].second + "\"") == std::string::npos) {
      ++wrong_sku;
    }
  }
  Json st = Json::object();
  for (auto& [code, n] : statuses) st[std::to_string(code)] = n;
  double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  bool ok = found == orders.size() && wrong_sku == 0 && duplicates == 0;
  Json report{{"orders", orders.size()}, {"found", found},
              {"wrong_sku", wrong_sku},  {"duplicate_ids", duplicates},
              {"status_counts", st},     {"missing_examples", missing},
              {"seconds", seconds},      {"ok", ok}};
  std::printf("verify: %zu orders, %" PRIu64 " found, %" PRIu64 " with another SKU, %" PRIu64
              " duplicate ids, statuses %s, %.1f s: %s\n",
              orders.size(), found, wrong_sku, duplicates, st.dump().c_str(), seconds,
              ok ? "OK" : "FAILED");
  if (!opt.json_path.empty()) WriteText(opt.json_path, report.dump(1) + "\n");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = ParseOptions(argc, argv);
  RaiseFileLimit();
  std::signal(SIGPIPE, SIG_IGN);
  if (opt.command == "seed") return Seed(opt);
  if (opt.command == "verify") return Verify(opt);
  return Run(opt);
}
