// tandem: one binary for the server and its operations.
//   tandem serve | user add | demo | migrate | check | backup
// Settings come from flags, then TANDEM_* environment variables, then a config file (--config).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "tandem/app/app.h"
#include "tandem/base/crypto.h"
#include "tandem/storage/sqlite/sqlite_database.h"

namespace {

using tandem::app::Config;

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("tandem");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
}

// The config file given by --config (or TANDEM_CONFIG): `key = value` lines, '#' comments.
// Each key becomes the default of its TANDEM_KEY environment variable unless that is set, so the
// precedence is flags, then environment, then file.
bool ApplyConfigFile(int argc, char** argv) {
  std::string path;
  if (const char* env = std::getenv("TANDEM_CONFIG")) path = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) path = argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) path = arg.substr(9);
  }
  if (path.empty()) return true;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read config file %s\n", path.c_str());
    return false;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line) && number < 1000) {
    ++number;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    size_t eq = line.find('=');
    auto trim = [](std::string s) {
      const char* space = " \t\r\"'";
      s.erase(0, s.find_first_not_of(space));
      s.erase(s.find_last_not_of(space) + 1);
      return s;
    };
    if (trim(line).empty()) continue;
    if (eq == std::string::npos) {
      std::fprintf(stderr, "%s:%d: expected key = value\n", path.c_str(), number);
      return false;
    }
    std::string env = "TANDEM_";
    for (char c : trim(line.substr(0, eq))) {
      env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    ::setenv(env.c_str(), trim(line.substr(eq + 1)).c_str(), /*overwrite=*/0);
  }
  return true;
}

int OpenOrFail(const Config& config, std::unique_ptr<tandem::storage::Database>& db) {
  auto opened = tandem::app::OpenDatabase(config);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", tandem::app::DatabasePath(config).c_str(),
                 opened.status().message().c_str());
    return 1;
  }
  db = std::move(opened.value());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (!tandem::InitCrypto()) {
    std::fprintf(stderr, "libsodium failed to initialise\n");
    return 1;
  }
  if (!ApplyConfigFile(argc, argv)) return 2;
  Config config;
  CLI::App app{"Tandem: one source of truth for stock and orders across every channel"};
  std::string config_file;
  app.add_option("--config", config_file, "Config file of key = value lines (e.g. listen = ...)");
  app.add_option("--data", config.data_dir, "Data folder")->envname("TANDEM_DATA");
  app.add_option("--listen", config.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->envname("TANDEM_LISTEN");
  app.add_option("--threads", config.threads,
                 "Worker threads for requests that wait on the database (0: automatic)")
      ->envname("TANDEM_THREADS")
      ->check(CLI::Range(0, 256));
  app.add_option("--io-threads", config.io_threads, "HTTP I/O threads (0: one per core but one)")
      ->envname("TANDEM_IO_THREADS")
      ->check(CLI::Range(0, 64));
  app.add_option("--request-timeout-seconds", config.request_timeout_seconds,
                 "Time to read a request or write its answer; idle connections close after it")
      ->envname("TANDEM_REQUEST_TIMEOUT_SECONDS")
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-connections", config.max_connections,
                 "Open HTTP connections; a request on one more is answered 503 and closed")
      ->envname("TANDEM_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--max-queued-requests", config.max_queued_requests,
                 "Requests waiting for a worker thread; past it: 503 with Retry-After")
      ->envname("TANDEM_MAX_QUEUED_REQUESTS")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  app.add_option("--max-queued-writes", config.max_queued_writes,
                 "Writes waiting for the database writer; past it: 503 with Retry-After")
      ->envname("TANDEM_MAX_QUEUED_WRITES")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  app.add_option("--hash-threads", config.hash_threads,
                 "Password-hashing threads for logins and sign-ups (0: one per core)")
      ->envname("TANDEM_HASH_THREADS")
      ->check(CLI::Range(0, tandem::kHashThreadsMax));
  app.add_option("--max-queued-hashes", config.max_queued_hashes,
                 "Logins and sign-ups waiting for a hashing thread; past it: 503 with Retry-After")
      ->envname("TANDEM_MAX_QUEUED_HASHES")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  app.add_option("--session-ttl-seconds", config.session_ttl_seconds,
                 "Lifetime of a login session; renewed on use once half of it is left")
      ->envname("TANDEM_SESSION_TTL_SECONDS")
      ->check(CLI::Range(tandem::kSessionTtlSecondsMin, tandem::kSessionTtlSecondsMax));
  app.add_option("--hold-ttl-seconds", config.hold_ttl_seconds, "Lifetime of a cart's holds")
      ->envname("TANDEM_HOLD_TTL_SECONDS")
      ->check(CLI::Range(int64_t{1}, int64_t{7 * 24 * 3600}));
  app.add_option("--hold-sweep-ms", config.hold_sweep_ms, "How often expired holds are released")
      ->envname("TANDEM_HOLD_SWEEP_MS")
      ->check(CLI::Range(int64_t{10}, int64_t{3600 * 1000}));
  app.add_option("--check-interval-seconds", config.check_interval_seconds,
                 "How often the server runs the consistency check")
      ->envname("TANDEM_CHECK_INTERVAL_SECONDS")
      ->check(CLI::Range(int64_t{1}, int64_t{24 * 3600}));
  app.add_option("--stale-after-seconds", config.stale_after_seconds,
                 "A store whose tills uploaded nothing for this long is shown stale")
      ->envname("TANDEM_STALE_AFTER_SECONDS")
      ->check(CLI::Range(int64_t{10}, int64_t{7 * 24 * 3600}));
  app.add_option("--public-url", config.public_url,
                 "The shop's address for links in messages (default: http://LISTEN)");
  app.add_option("--card-provider-url", config.card_provider_url,
                 "Card payments: Stripe's API (https://api.stripe.com) or the simulator's URL")
      ->envname("TANDEM_CARD_PROVIDER_URL");
  app.add_option("--card-secret-key", config.card_secret_key, "The card provider's secret key")
      ->envname("TANDEM_CARD_SECRET_KEY");
  app.add_option("--card-webhook-secret", config.card_webhook_secret,
                 "Secret that signs the card provider's webhooks (whsec_...)")
      ->envname("TANDEM_CARD_WEBHOOK_SECRET");
  app.add_option("--carrier-webhook-secret", config.carrier_webhook_secret,
                 "Secret that signs the carriers' tracking updates")
      ->envname("TANDEM_CARRIER_WEBHOOK_SECRET");
  app.add_option("--unpaid-bank-transfer-seconds", config.unpaid_bank_transfer_seconds,
                 "A bank-transfer order unpaid this long is cancelled")
      ->check(CLI::Range(int64_t{1}, int64_t{90} * 24 * 3600));
  app.add_option("--unpaid-card-seconds", config.unpaid_card_seconds,
                 "A card order unpaid this long is cancelled")
      ->check(CLI::Range(int64_t{1}, int64_t{7} * 24 * 3600));
  app.add_option("--pickup-uncollected-seconds", config.pickup_uncollected_seconds,
                 "A pick-up not collected this long after it is ready goes back to stock")
      ->check(CLI::Range(int64_t{1}, int64_t{90} * 24 * 3600));
  app.add_option("--expiry-sweep-ms", config.expiry_sweep_ms,
                 "How often unpaid orders and uncollected pick-ups are expired")
      ->check(CLI::Range(int64_t{10}, int64_t{3600} * 1000));
  app.add_option("--tax-rate-bp", config.tax_rate_bp,
                 "Tax contained in prices, in basis points (600 = 6 %), printed on invoices")
      ->check(CLI::Range(0, 10000));
  app.add_option("--log-level", config.log_level, "trace, debug, info, warn, error")
      ->envname("TANDEM_LOG_LEVEL");
  app.fallthrough();
  app.require_subcommand(1);

  auto* serve = app.add_subcommand("serve", "Run the HTTP server");
  auto* migrate = app.add_subcommand("migrate", "Apply pending schema migrations");
  auto* check = app.add_subcommand("check", "Check that stock counters match ledger, holds, allocations");
  auto* demo = app.add_subcommand("demo", "Load demo data (idempotent) and print the logins");
  auto* backup = app.add_subcommand("backup", "Write an online backup of the database");
  std::string backup_to;
  backup->add_option("--to", backup_to, "Backup file")->required();
  auto* user = app.add_subcommand("user", "Manage staff accounts");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "Create a staff account");
  tandem::customers::Registration reg;
  std::string role = "admin";
  user_add->add_option("--email", reg.email, "E-mail (the login)")->required();
  user_add->add_option("--password", reg.password, "Password (8-200 bytes)")->required();
  user_add->add_option("--role", role, "admin, merchant, ops or clerk")
      ->check(CLI::IsMember({"admin", "merchant", "ops", "clerk"}));
  user_add->add_option("--name", reg.name, "Display name");
  std::string clerk_location;
  user_add->add_option("--location", clerk_location, "A clerk's store (location code)");

  CLI11_PARSE(app, argc, argv);
  SetUpLogging(config.log_level);

  if (serve->parsed()) return tandem::app::Serve(config);

  if (migrate->parsed()) {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    auto applied = tandem::storage::sqlite::MigrateSqlite(tandem::app::DatabasePath(config));
    if (!applied.ok()) {
      std::fprintf(stderr, "migrate failed: %s\n", applied.status().message().c_str());
      return 1;
    }
    std::printf("applied %d migration(s)\n", *applied);
    return 0;
  }

  std::unique_ptr<tandem::storage::Database> db;
  if (int rc = OpenOrFail(config, db); rc != 0) return rc;
  tandem::SystemClock clock;

  if (check->parsed()) {
    std::string report;
    auto found = tandem::app::CheckInventory(*db, &report);
    if (!found.ok()) {
      std::fprintf(stderr, "check failed: %s\n", found.status().message().c_str());
      return 2;
    }
    if (*found > 0) {
      std::printf("%s%d discrepancy(ies)\n", report.c_str(), *found);
      return 1;
    }
    std::printf("inventory consistent: on_hand = ledger, reserved = holds, allocated = open "
                "allocations\n");
    return 0;
  }
  if (demo->parsed()) {
    auto logins = tandem::app::LoadDemo(*db, clock);
    if (!logins.ok()) {
      std::fprintf(stderr, "demo failed: %s\n", logins.status().message().c_str());
      return 1;
    }
    std::printf("Demo data ready in %s. Logins:\n", config.data_dir.c_str());
    for (const auto& l : *logins) {
      std::printf("  %-9s %-24s password: %s\n", l.role.c_str(), l.email.c_str(),
                  l.password.c_str());
    }
    return 0;
  }
  if (backup->parsed()) {
    db.reset();
    tandem::Status s = tandem::storage::sqlite::BackupSqlite(tandem::app::DatabasePath(config),
                                                             backup_to);
    if (!s.ok()) {
      std::fprintf(stderr, "backup failed: %s\n", s.message().c_str());
      return 1;
    }
    std::printf("backup written to %s\n", backup_to.c_str());
    return 0;
  }
  if (user_add->parsed()) {
    reg.role = *tandem::customers::ParseRole(role);
    if (reg.name.empty()) reg.name = reg.email;
    if (!clerk_location.empty()) {
      tandem::Status found = db->Read([&](tandem::storage::Tx& tx) {
        auto l = tx.inventory().FindLocationByCode(clerk_location);
        if (!l) return tandem::Status(tandem::Code::kNotFound, "no location " + clerk_location);
        reg.location_id = l->id;
        return tandem::Status::Ok();
      });
      if (!found.ok()) {
        std::fprintf(stderr, "user add failed: %s\n", found.message().c_str());
        return 1;
      }
    }
    tandem::Status s = tandem::app::AddUser(*db, clock, reg);
    if (!s.ok()) {
      std::fprintf(stderr, "user add failed: %s: %s\n",
                   std::string(tandem::CodeName(s.code())).c_str(), s.message().c_str());
      return 1;
    }
    std::printf("created %s account %s\n", role.c_str(), reg.email.c_str());
    return 0;
  }
  return 2;
}
