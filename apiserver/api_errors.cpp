#include "apiserver/api_errors.h"

namespace skiff::apiserver {

namespace {

// Splits "deployments.apps" into details.kind and details.group.
void setResource(Error& e, const std::string& groupResource) {
  auto dot = groupResource.find('.');
  if (dot == std::string::npos) {
    e.kind = groupResource;
  } else {
    e.kind = groupResource.substr(0, dot);
    e.group = groupResource.substr(dot + 1);
  }
}

std::string quoted(const std::string& groupResource, const std::string& name) {
  return groupResource + " \"" + name + "\"";
}

}  // namespace

api::Json statusJson(const Error& error) {
  api::Json s = {{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", api::Json::object()},
                 {"status", "Failure"},
                 {"message", error.message},
                 {"reason", reason(error.code)},
                 {"code", httpStatus(error.code)}};
  api::Json details = api::Json::object();
  if (!error.name.empty()) details["name"] = error.name;
  if (!error.group.empty()) details["group"] = error.group;
  if (!error.kind.empty()) details["kind"] = error.kind;
  if (!error.causes.empty()) {
    api::Json causes = api::Json::array();
    for (const auto& c : error.causes) {
      api::Json cause = api::Json::object();
      if (!c.type.empty()) cause["reason"] = c.type;
      if (!c.message.empty()) cause["message"] = c.message;
      if (!c.field.empty()) cause["field"] = c.field;
      causes.push_back(cause);
    }
    details["causes"] = causes;
  }
  if (!details.empty()) s["details"] = details;
  return s;
}

api::Json successStatus(int code, const std::string& name, const std::string& group,
                        const std::string& kind) {
  api::Json s = {{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", api::Json::object()},
                 {"status", "Success"}};
  if (code != 0) s["code"] = code;
  api::Json details = api::Json::object();
  if (!name.empty()) details["name"] = name;
  if (!group.empty()) details["group"] = group;
  if (!kind.empty()) details["kind"] = kind;
  if (!details.empty()) s["details"] = details;
  return s;
}

Error notFound(const std::string& groupResource, const std::string& name) {
  Error e = makeError(Code::kNotFound, quoted(groupResource, name) + " not found");
  e.name = name;
  setResource(e, groupResource);
  return e;
}

Error alreadyExists(const std::string& groupResource, const std::string& name) {
  Error e = makeError(Code::kAlreadyExists, quoted(groupResource, name) + " already exists");
  e.name = name;
  setResource(e, groupResource);
  return e;
}

Error conflict(const std::string& groupResource, const std::string& name,
               const std::string& detail) {
  Error e = makeError(Code::kConflict, "Operation cannot be fulfilled on " +
                                           quoted(groupResource, name) + ": " + detail);
  e.name = name;
  setResource(e, groupResource);
  return e;
}

Error staleConflict(const std::string& groupResource, const std::string& name) {
  return conflict(groupResource, name,
                  "the object has been modified; please apply your changes to the latest "
                  "version and try again");
}

Error forbidden(const std::string& groupResource, const std::string& name,
                const std::string& detail) {
  std::string subject = name.empty() ? groupResource : quoted(groupResource, name);
  Error e = makeError(Code::kForbidden, subject + " is forbidden: " + detail);
  e.name = name;
  setResource(e, groupResource);
  return e;
}

Error badRequest(const std::string& message) {
  return makeError(Code::kBadRequest, message);
}

Error resourceNotFound() {
  return makeError(Code::kNotFound, "the server could not find the requested resource");
}

Error methodNotAllowed() {
  return makeError(Code::kMethodNotAllowed,
                   "the server does not allow this method on the requested resource");
}

}  // namespace skiff::apiserver
