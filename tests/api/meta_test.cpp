#include "api/meta.h"

#include <catch2/catch.hpp>

namespace skiff::api {
namespace {

TEST_CASE("isDeleting: a non-empty deletionTimestamp string, anything else is not", "[meta]") {
  CHECK(isDeleting(Json::parse(R"({"metadata":{"deletionTimestamp":"2026-11-27T02:09:16Z"}})")));
  CHECK_FALSE(isDeleting(Json::parse(R"({"metadata":{"name":"web"}})")));
  CHECK_FALSE(isDeleting(Json::parse(R"({"metadata":{"deletionTimestamp":""}})")));
  CHECK_FALSE(isDeleting(Json::parse(R"({"metadata":{"deletionTimestamp":null}})")));
  CHECK_FALSE(isDeleting(Json::parse(R"({"metadata":{"deletionTimestamp":5}})")));
  CHECK_FALSE(isDeleting(Json::parse(R"({"metadata":"x"})")));
  CHECK_FALSE(isDeleting(Json()));
}

}  // namespace
}  // namespace skiff::api
