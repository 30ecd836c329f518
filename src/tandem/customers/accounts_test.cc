#include "tandem/customers/accounts.h"

#include <gtest/gtest.h>

namespace tandem::customers {
namespace {

TEST(NormalizeEmail, LowerCasesAndTrims) {
  EXPECT_EQ(NormalizeEmail("  Aisyah@Example.MY "), "aisyah@example.my");
}

TEST(NormalizeEmail, RefusesWhatIsNotAnAddress) {
  EXPECT_EQ(NormalizeEmail("no-at-sign"), "");
  EXPECT_EQ(NormalizeEmail("@example.my"), "");
  EXPECT_EQ(NormalizeEmail("a@b@c"), "");
  EXPECT_EQ(NormalizeEmail("a b@c.my"), "");
  EXPECT_EQ(NormalizeEmail("a@"), "");
}

TEST(ValidateRegistration, EnforcesPasswordBounds) {
  Registration r{"a@b.my", std::string(8, 'x'), "A", "", false, Role::kCustomer};
  EXPECT_TRUE(ValidateRegistration(r).ok());
  r.password = std::string(7, 'x');
  EXPECT_EQ(ValidateRegistration(r).code(), Code::kInvalidArgument);
  r.password = std::string(200, 'x');
  EXPECT_TRUE(ValidateRegistration(r).ok());
  r.password = std::string(201, 'x');
  EXPECT_FALSE(ValidateRegistration(r).ok());
}

TEST(Roles, RoundTripAndKnowStaff) {
  for (Role r : {Role::kCustomer, Role::kAdmin, Role::kMerchant, Role::kOps, Role::kClerk}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_FALSE(IsStaff(Role::kCustomer));
  EXPECT_TRUE(IsStaff(Role::kClerk));
  EXPECT_FALSE(ParseRole("root").has_value());
}

}  // namespace
}  // namespace tandem::customers
