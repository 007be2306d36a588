#include "base/result.h"

namespace skiff {

int httpStatus(Code code) {
  switch (code) {
    case Code::kBadRequest: return 400;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kMethodNotAllowed: return 405;
    case Code::kNotAcceptable: return 406;
    case Code::kAlreadyExists: return 409;
    case Code::kConflict: return 409;
    case Code::kGone: return 410;
    case Code::kTooLarge: return 413;
    case Code::kUnsupportedMediaType: return 415;
    case Code::kInvalid: return 422;
    case Code::kTooManyRequests: return 429;
    case Code::kInternal: return 500;
    case Code::kUnavailable: return 503;
    case Code::kTimeout: return 504;
  }
  return 500;
}

const char* reason(Code code) {
  switch (code) {
    case Code::kBadRequest: return "BadRequest";
    case Code::kUnauthorized: return "Unauthorized";
    case Code::kForbidden: return "Forbidden";
    case Code::kNotFound: return "NotFound";
    case Code::kMethodNotAllowed: return "MethodNotAllowed";
    case Code::kNotAcceptable: return "NotAcceptable";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kConflict: return "Conflict";
    case Code::kGone: return "Expired";
    case Code::kTooLarge: return "RequestEntityTooLarge";
    case Code::kUnsupportedMediaType: return "UnsupportedMediaType";
    case Code::kInvalid: return "Invalid";
    case Code::kTooManyRequests: return "TooManyRequests";
    case Code::kInternal: return "InternalError";
    case Code::kUnavailable: return "ServiceUnavailable";
    case Code::kTimeout: return "Timeout";
  }
  return "InternalError";
}

Code codeFromReason(const std::string& r, int status) {
  static const Code all[] = {
      Code::kBadRequest, Code::kUnauthorized, Code::kForbidden, Code::kNotFound,
      Code::kMethodNotAllowed, Code::kNotAcceptable, Code::kAlreadyExists, Code::kConflict,
      Code::kGone, Code::kTooLarge, Code::kUnsupportedMediaType, Code::kInvalid,
      Code::kTooManyRequests, Code::kInternal, Code::kUnavailable, Code::kTimeout};
  for (Code c : all)
    if (r == reason(c)) return c;
  for (Code c : all)
    if (httpStatus(c) == status) return c;
  return Code::kInternal;
}

}  // namespace skiff
