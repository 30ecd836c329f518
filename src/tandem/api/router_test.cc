#include "tandem/api/router.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tandem/api/api.h"
#include "tandem/api/errors.h"
#include "tandem/api/http.h"
#include "testing/fake_clock.h"

namespace tandem::api {
namespace {

TEST(Router, MatchesPatternsAndCapturesParams) {
  Router router;
  router.Add("GET", "/api/v1/carts/{id}/items/{sku}", [](Request&) { return Response{}; });
  Request r;
  r.method = "GET";
  r.path = "/api/v1/carts/12/items/BT-1";
  EXPECT_EQ(router.Find(r).kind, Router::MatchKind::kFound);
  EXPECT_EQ(r.params["id"], "12");
  EXPECT_EQ(r.params["sku"], "BT-1");
  r.method = "POST";
  EXPECT_EQ(router.Find(r).kind, Router::MatchKind::kWrongMethod);
  r.path = "/api/v1/carts/12/items";
  EXPECT_EQ(router.Find(r).kind, Router::MatchKind::kNoPath);
  r.path = "/api/v1/carts//items/x";
  r.method = "GET";
  EXPECT_EQ(router.Find(r).kind, Router::MatchKind::kNoPath);
}

TEST(ParseQuery, DecodesPairs) {
  auto q = ParseQuery("q=batik+tee&limit=5&x=%2F%zz&flag");
  EXPECT_EQ(q["q"], "batik tee");
  EXPECT_EQ(q["limit"], "5");
  EXPECT_EQ(q["x"], "/%zz");
  EXPECT_EQ(q.count("flag"), 1u);
}

// A 5xx answer says only "see the server log"; its cause goes to the log with the request id.
TEST(Problem, KeepsAServerErrorsCauseForTheLogOnly) {
  Response failed = Problem(Status(Code::kInternal, "insert_movement: database or disk is full"));
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.log_detail, "insert_movement: database or disk is full");
  EXPECT_EQ(failed.body.find("disk"), std::string::npos);
  Response refused = Problem(Status(Code::kConflict, "sold out"));
  EXPECT_NE(refused.body.find("sold out"), std::string::npos);
  EXPECT_TRUE(refused.log_detail.empty());
}

// Every routed (method, path) is documented in the OpenAPI document, and nothing more.
TEST(OpenApi, DocumentsEveryRoute) {
  nlohmann::json doc = nlohmann::json::parse(OpenApiDocument());
  ASSERT_TRUE(doc.contains("paths"));
  // The handlers only borrow the database; this test never calls them.
  class NoDatabase final : public storage::Database {
    void WriteAsync(storage::TxFunction, storage::WriteDone done) override {
      done(Status(Code::kInternal, "none"));
    }
    Status Read(const storage::TxFunction&) override { return Status(Code::kInternal, "none"); }
    Status Health() const override { return Status::Ok(); }
  } db;
  testing::FakeClock clock;
  ApiOptions options;
  options.worker_threads = 1;  // never used here
  Api api(db, clock, options);
  size_t documented = 0;
  for (const auto& [path, ops] : doc["paths"].items()) documented += ops.size();
  size_t routed = 0;
  for (const Route& route : api.router().routes()) {
    std::string method = route.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_TRUE(doc["paths"].contains(route.pattern) &&
                doc["paths"][route.pattern].contains(method))
        << route.method << " " << route.pattern << " is routed but not in openapi.json";
    ++routed;
  }
  EXPECT_EQ(documented, routed) << "openapi.json documents operations that are not routed";
}

}  // namespace
}  // namespace tandem::api
