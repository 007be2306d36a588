#include "client/rest_client.h"

#include <curl/curl.h>

#include <cstring>

namespace skiff::client {
namespace {

// Errors decoded from a Status carry this marker cause so renderError() can
// tell "Error from server" from local failures. It is never shown.
constexpr const char* kServerMarker = "skiff.io/from-server";

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensureCurl() {
  static CurlGlobal g;
}

struct Exchange {
  std::string body;
  std::string contentType;
  std::vector<std::string> warnings;
  const std::function<bool(const std::string&)>* onChunk = nullptr;
  bool stopped = false;
};

size_t onWrite(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t len = size * n;
  if (x->onChunk) {
    if (!(*x->onChunk)(std::string(data, len))) {
      x->stopped = true;
      return 0;  // aborts the transfer
    }
    return len;
  }
  x->body.append(data, len);
  return len;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

size_t onHeader(char* data, size_t size, size_t n, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t len = size * n;
  std::string line(data, len);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    std::string value = trim(line.substr(colon + 1));
    if (name == "content-type") x->contentType = value;
    if (name == "warning") {
      // RFC 7234: 299 - "text"
      auto q = value.find('"');
      auto rq = value.rfind('"');
      if (q != std::string::npos && rq > q) value = value.substr(q + 1, rq - q - 1);
      x->warnings.push_back(value);
    }
  }
  return len;
}

}  // namespace

RestClient::RestClient(ClientConfig config) : config_(std::move(config)) {
  ensureCurl();
}

RestClient::~RestClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string RestClient::hostPort() const {
  std::string s = config_.server;
  if (auto p = s.find("://"); p != std::string::npos) s = s.substr(p + 3);
  if (auto slash = s.find('/'); slash != std::string::npos) s = s.substr(0, slash);
  if (s.find(':') == std::string::npos || (s[0] == '[' && s.find("]:") == std::string::npos))
    s += config_.server.rfind("http://", 0) == 0 ? ":80" : ":443";
  return s;
}

void RestClient::configure(void* h) {
  CURL* c = static_cast<CURL*>(h);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  // Loopback servers answer at once; Nagle only adds latency to small requests.
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  if (config_.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config_.caPem.empty()) {
    curl_blob blob{const_cast<char*>(config_.caPem.data()), config_.caPem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!config_.clientCertPem.empty() && !config_.clientKeyPem.empty()) {
    curl_blob cert{const_cast<char*>(config_.clientCertPem.data()), config_.clientCertPem.size(),
                   CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(config_.clientKeyPem.data()), config_.clientKeyPem.size(),
                  CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
}

Result<Response> RestClient::perform(void* h, const std::string& method, const std::string& path,
                                     const std::string& body, const std::string& contentType,
                                     const std::string& accept,
                                     const std::function<bool(const std::string&)>* onChunk,
                                     int timeoutSeconds) {
  CURL* c = static_cast<CURL*>(h);
  std::string url = config_.server + path;
  Exchange x;
  x.onChunk = onChunk;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(timeoutSeconds));
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  if (method == "GET") {
  } else if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    if (method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Accept: " + accept).c_str());
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    headers = curl_slist_append(
        headers,
        ("Content-Type: " + (contentType.empty() ? "application/json" : contentType)).c_str());
  if (!config_.token.empty())
    headers = curl_slist_append(headers, ("Authorization: Bearer " + config_.token).c_str());
  headers = curl_slist_append(headers, "User-Agent: skiff/0.1.0");
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  curl_easy_setopt(c, CURLOPT_NOBODY, 0L);

  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x.stopped) &&
      !(rc == CURLE_ABORTED_BY_CALLBACK && onChunk) &&
      !(rc == CURLE_OPERATION_TIMEDOUT && onChunk && timeoutSeconds > 0)) {
    Error e;
    e.code = Code::kUnavailable;
    if (rc == CURLE_COULDNT_CONNECT) {
      e.message = "The connection to the server " + hostPort() +
                  " was refused - did you specify the right host or port?";
    } else {
      e.message = std::string("Unable to connect to the server: ") + curl_easy_strerror(rc);
      if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
        e.message += " (the kubeconfig's certificate-authority-data does not match the server)";
    }
    return e;
  }
  Response r;
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  r.status = static_cast<int>(status);
  r.body = std::move(x.body);
  r.contentType = std::move(x.contentType);
  r.warnings = std::move(x.warnings);
  return r;
}

Result<Response> RestClient::request(const std::string& method, const std::string& path,
                                     const std::string& body, const std::string& contentType,
                                     const std::string& accept) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!curl_) {
    curl_ = curl_easy_init();
    if (!curl_) return makeError(Code::kInternal, "curl_easy_init failed");
    configure(curl_);
  }
  auto r = perform(curl_, method, path, body, contentType, accept, nullptr, 0);
  if (r) lastWarnings_ = r->warnings;
  return r;
}

std::vector<std::string> RestClient::lastWarnings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lastWarnings_;
}

namespace {
Result<Json> toJson(Result<Response> r) {
  if (!r) return r.error();
  if (r->status >= 400 || r->status < 200) return errorFromResponse(*r);
  if (r->body.empty()) return Json::object();
  auto j = api::parseJson(r->body);
  if (!j) return j.error().wrap("decode response");
  return j;
}
}  // namespace

Result<Json> RestClient::get(const std::string& path, const std::string& accept) {
  return toJson(request("GET", path, "", "", accept));
}
Result<Json> RestClient::post(const std::string& path, const Json& body) {
  return toJson(request("POST", path, body.dump()));
}
Result<Json> RestClient::put(const std::string& path, const Json& body) {
  return toJson(request("PUT", path, body.dump()));
}
Result<Json> RestClient::patch(const std::string& path, const Json& body,
                               const std::string& patchType) {
  return toJson(request("PATCH", path, body.dump(), patchType));
}
Result<Json> RestClient::del(const std::string& path, const Json& options) {
  return toJson(request("DELETE", path, options.is_null() ? "" : options.dump()));
}

Status RestClient::watch(const std::string& path, const std::function<bool(const Json&)>& onEvent,
                         int timeoutSeconds, const std::string& accept,
                         const std::atomic<bool>* cancel) {
  CURL* c = curl_easy_init();
  if (!c) return makeError(Code::kInternal, "curl_easy_init failed");
  configure(c);
  if (cancel) {
    // libcurl calls this about once a second even on an idle stream.
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
    curl_easy_setopt(
        c, CURLOPT_XFERINFOFUNCTION,
        +[](void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
          return static_cast<std::atomic<bool>*>(p)->load() ? 1 : 0;
        });
  }
  std::string pending;
  int status = 0;
  std::string errorBody;
  bool checked = false;
  std::function<bool(const std::string&)> onChunk = [&](const std::string& chunk) {
    if (!checked) {
      long code = 0;
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
      status = static_cast<int>(code);
      checked = true;
    }
    if (status >= 400) {
      errorBody += chunk;
      return true;
    }
    pending += chunk;
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      auto j = api::parseJson(line);
      if (!j) continue;
      if (!onEvent(*j)) return false;
    }
    return !(cancel && cancel->load());
  };
  auto r = perform(c, "GET", path, "", "", accept, &onChunk, timeoutSeconds);
  if (r && !checked) status = r->status;
  curl_easy_cleanup(c);
  if (!r) return r.error();
  if (status >= 400) {
    Response resp;
    resp.status = status;
    resp.body = errorBody;
    return errorFromResponse(resp);
  }
  return Status();
}

Error errorFromResponse(const Response& response) {
  Error e;
  e.code = codeFromReason("", response.status);
  auto j = api::parseJson(response.body);
  if (j && j->is_object() && j->value("kind", "") == "Status") {
    const Json& s = *j;
    std::string reasonText = s.value("reason", "");
    e.code = codeFromReason(reasonText, response.status);
    e.message = s.value("message", "");
    if (auto d = s.find("details"); d != s.end() && d->is_object()) {
      e.name = d->value("name", "");
      e.group = d->value("group", "");
      e.kind = d->value("kind", "");
      if (auto cs = d->find("causes"); cs != d->end() && cs->is_array())
        for (const auto& cj : *cs)
          e.causes.push_back(
              Cause{cj.value("reason", ""), cj.value("field", ""), cj.value("message", "")});
    }
  } else {
    // kubectl: "the server could not find the requested resource" etc.
    std::string body = response.body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    switch (response.status) {
      case 404:
        e.message = "the server could not find the requested resource";
        break;
      case 401:
        e.message = "Unauthorized";
        break;
      case 403:
        e.message = "Forbidden";
        break;
      default:
        e.message = "an error on the server (\"" +
                    (body.size() > 200 ? body.substr(0, 200) : body) +
                    "\") has prevented the request from succeeding";
    }
  }
  e.causes.push_back(Cause{kServerMarker, "", ""});
  return e;
}

bool isServerError(const Error& e) {
  for (const auto& c : e.causes)
    if (c.type == kServerMarker) return true;
  return false;
}

std::string renderError(const Error& e, const std::string& context) {
  if (!isServerError(e)) {
    if (e.code == Code::kUnavailable && (e.message.rfind("The connection to the server", 0) == 0 ||
                                         e.message.rfind("Unable to connect", 0) == 0))
      return e.message;
    return "error: " + context + e.message;
  }
  if (e.code == Code::kUnauthorized)
    return "error: You must be logged in to the server (" +
           (e.message.empty() ? std::string("Unauthorized") : e.message) + ")";
  return std::string("Error from server (") + reason(e.code) + "): " + context + e.message;
}

}  // namespace skiff::client
