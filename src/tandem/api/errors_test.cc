#include "tandem/api/errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace tandem::api {
namespace {

TEST(Errors, EveryCodeHasItsOwnNameAndAnHttpStatus) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Code::kInternal); ++i) {
    Code code = static_cast<Code>(i);
    EXPECT_TRUE(names.insert(CodeName(code)).second) << CodeName(code);
    EXPECT_GE(HttpStatusOf(code), 200);
    EXPECT_LT(HttpStatusOf(code), 600);
    if (code != Code::kInternal) {
      EXPECT_NE(CodeName(code), "internal_error") << i;
    }
  }
}

TEST(Errors, RefusedProofFilesGetTheirOwnCodes) {
  struct Case {
    Code code;
    int status;
    std::string name;
  };
  for (const Case& c : {Case{Code::kEmptyFile, 422, "empty_file"},
                        Case{Code::kUnsupportedFileType, 415, "unsupported_file_type"},
                        Case{Code::kDamagedFile, 422, "damaged_file"},
                        Case{Code::kFileTooLarge, 413, "file_too_large"}}) {
    Response r = Problem(Status(c.code, "the detail"));
    EXPECT_EQ(r.status, c.status) << c.name;
    EXPECT_EQ(r.content_type, "application/problem+json");
    nlohmann::json body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["code"], c.name);
    EXPECT_EQ(body["type"], "urn:tandem:problem:" + c.name);
    EXPECT_EQ(body["status"], c.status);
    EXPECT_EQ(body["detail"], "the detail");
  }
}

TEST(Errors, AnInternalErrorHidesItsDetail) {
  Response r = Problem(Status(Code::kInternal, "secret path /data/x"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.body)["detail"], "see the server log for this request id");
  EXPECT_EQ(r.log_detail, "secret path /data/x");
}

}  // namespace
}  // namespace tandem::api
