#include "base/result.h"

#include <catch2/catch.hpp>

using namespace skiff;

TEST_CASE("each code maps to one HTTP status and Kubernetes reason") {
  CHECK(httpStatus(Code::kInvalid) == 422);
  CHECK(std::string(reason(Code::kInvalid)) == "Invalid");
  CHECK(httpStatus(Code::kGone) == 410);
  CHECK(std::string(reason(Code::kGone)) == "Expired");
  CHECK(codeFromReason("AlreadyExists", 409) == Code::kAlreadyExists);
  CHECK(codeFromReason("Conflict", 409) == Code::kConflict);
  CHECK(codeFromReason("", 404) == Code::kNotFound);
}

TEST_CASE("Result carries a value or an error with context") {
  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  Result<int> bad = makeError(Code::kNotFound, "EPERM").wrap("mount /proc");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "mount /proc: EPERM");
  Status s;
  CHECK(s.ok());
}
