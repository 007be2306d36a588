// Errors as values.
//
// Every fallible operation in skiff returns Result<T>: either a T or an Error.
// An Error has a code from a closed set (each maps to exactly one HTTP status
// and one Kubernetes Status reason, see httpStatus() and reason()), a message a
// person can act on ("create pod default/web: mount /proc: EPERM"), and, for
// validation failures, a list of causes each naming a field path.
//
// Exceptions thrown by third-party libraries (yaml-cpp, Boost, nlohmann) stop
// at the adapter that calls them and come out of it as an Error.
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace skiff {

enum class Code {
  kBadRequest,            // 400 BadRequest: malformed input
  kUnauthorized,          // 401 Unauthorized: no or wrong credentials
  kForbidden,             // 403 Forbidden
  kNotFound,              // 404 NotFound
  kMethodNotAllowed,      // 405 MethodNotAllowed
  kNotAcceptable,         // 406 NotAcceptable
  kAlreadyExists,         // 409 AlreadyExists: create of an existing name
  kConflict,              // 409 Conflict: stale resourceVersion
  kGone,                  // 410 Expired: revision compacted away
  kTooLarge,              // 413 RequestEntityTooLarge
  kUnsupportedMediaType,  // 415 UnsupportedMediaType
  kInvalid,               // 422 Invalid: validation failed (see causes)
  kTooManyRequests,       // 429 TooManyRequests
  kInternal,              // 500 InternalError: a bug or an I/O failure
  kUnavailable,           // 503 ServiceUnavailable
  kTimeout,               // 504 Timeout
};

// One field-level problem, as Kubernetes' field.Error / StatusCause.
struct Cause {
  std::string type;     // FieldValueRequired, FieldValueInvalid, FieldValueDuplicate,
                        // FieldValueNotSupported, FieldValueForbidden, FieldValueTooLong,
                        // FieldValueTypeInvalid, FieldValueUnknown (unknown field)
  std::string field;    // "spec.ports[0].nodePort"
  std::string message;  // "Invalid value: 70000: must be between 1 and 65535, inclusive"
};

struct Error {
  Code code = Code::kInternal;
  std::string message;
  // Optional Status details, as Kubernetes fills them.
  std::string name;   // object name (or storage key)
  std::string group;  // "" for core, "apps"
  std::string kind;   // plural resource ("pods"), as Kubernetes' details.kind
  std::vector<Cause> causes;

  // Prefixes context: Error{..., "EPERM"}.wrap("mount /proc") -> "mount /proc: EPERM".
  Error wrap(const std::string& context) const {
    Error e = *this;
    e.message = context + ": " + message;
    return e;
  }
};

inline Error makeError(Code code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

// The HTTP status and Kubernetes Status.reason for each code.
int httpStatus(Code code);
const char* reason(Code code);
// Parses a reason back (for clients decoding a Status); unknown -> kInternal.
Code codeFromReason(const std::string& reason, int httpStatus);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace skiff
