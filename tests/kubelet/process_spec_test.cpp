#include <catch2/catch.hpp>

#include "kubelet/process_spec.h"

using skiff::api::Json;
using skiff::kubelet::expandVars;
using skiff::kubelet::ImageConfig;
using skiff::kubelet::PodContext;
using skiff::kubelet::processSpec;

namespace {

const std::string kPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

PodContext context() {
  PodContext ctx;
  ctx.pod = Json::parse(R"J({
    "metadata": {"name": "web", "namespace": "prod", "uid": "1234-5678",
                 "labels": {"app": "web", "tier": "front"}, "annotations": {"note": "hi"}},
    "spec": {"nodeName": "node-1", "serviceAccountName": "builder", "containers": []}
  })J");
  ctx.podIPs = {"10.244.0.7"};
  ctx.hostIPs = {"192.168.1.10"};
  ctx.serviceEnv = {{"DB_SERVICE_HOST", "10.96.0.20"}, {"DB_SERVICE_PORT", "5432"}};
  return ctx;
}

ImageConfig image(std::vector<std::string> entrypoint, std::vector<std::string> cmd) {
  ImageConfig c;
  c.entrypoint = std::move(entrypoint);
  c.cmd = std::move(cmd);
  c.env = {"PATH=/bin:/usr/bin", "LANG=C"};
  return c;
}

}  // namespace

TEST_CASE("argv follows Kubernetes' command/args rules", "[process_spec]") {
  struct Case {
    std::string what;
    std::string container;
    std::vector<std::string> entrypoint, cmd;
    std::vector<std::string> argv;  // empty: expect "no command specified"
  };
  std::vector<Case> cases = {
      {"image only", R"J({"name":"c"})J", {"/ep"}, {"a", "b"}, {"/ep", "a", "b"}},
      {"cmd only image", R"J({"name":"c"})J", {}, {"sh"}, {"sh"}},
      {"command replaces entrypoint and drops cmd",
       R"J({"name":"c","command":["/x","-v"]})J",
       {"/ep"},
       {"a"},
       {"/x", "-v"}},
      {"args replace cmd", R"J({"name":"c","args":["1","2"]})J", {"/ep"}, {"a"}, {"/ep", "1", "2"}},
      {"args without entrypoint",
       R"J({"name":"c","args":["sleep","5"]})J",
       {},
       {"sh"},
       {"sleep", "5"}},
      {"command and args",
       R"J({"name":"c","command":["/x"],"args":["y"]})J",
       {"/ep"},
       {"a"},
       {"/x", "y"}},
      {"empty lists count as unset",
       R"J({"name":"c","command":[],"args":[]})J",
       {"/ep"},
       {"a"},
       {"/ep", "a"}},
      {"nothing to run", R"J({"name":"c"})J", {}, {}, {}},
      {"expansion in command and args",
       R"J({"name":"c","command":["echo","$(GREETING)"],"args":["$(POD)","$$(GREETING)","$(NOPE)","$(DB_SERVICE_HOST)"],
           "env":[{"name":"GREETING","value":"hello"},
                  {"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]})J",
       {},
       {},
       {"echo", "hello", "web", "$(GREETING)", "$(NOPE)", "10.96.0.20"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = processSpec(Json::parse(c.container), image(c.entrypoint, c.cmd), context());
    if (c.argv.empty()) {
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().message == "no command specified");
    } else {
      REQUIRE(r.ok());
      CHECK(r->args == c.argv);
    }
  }
}

TEST_CASE("$(VAR) expansion matches Kubernetes' expansion package", "[process_spec]") {
  auto lookup = [](const std::string& name, std::string* out) {
    if (name == "A")
      *out = "x";
    else if (name == "EMPTY")
      *out = "";
    else
      return false;
    return true;
  };
  std::vector<std::pair<std::string, std::string>> cases = {
      {"$(A)", "x"},      {"pre-$(A)-post", "pre-x-post"},
      {"$(A)$(A)", "xx"}, {"$$(A)", "$(A)"},
      {"$$$(A)", "$x"},   {"$$$$(A)", "$$(A)"},
      {"$(B)", "$(B)"},   {"$(EMPTY)", ""},
      {"$(A", "$(A"},     {"$A", "$A"},
      {"$", "$"},         {"a$", "a$"},
      {"$()", "$()"},     {"$(A)$", "x$"},
      {"(A)", "(A)"},     {"$(A)(A)", "x(A)"},
  };
  for (const auto& [in, out] : cases) {
    INFO(in);
    CHECK(expandVars(in, lookup) == out);
  }
}

TEST_CASE("env: defaults, image, then container env with fieldRefs", "[process_spec]") {
  auto container = Json::parse(R"J({"name":"c","env":[
    {"name":"LANG","value":"en_US.UTF-8"},
    {"name":"NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},
    {"name":"NS","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}},
    {"name":"UID","valueFrom":{"fieldRef":{"fieldPath":"metadata.uid"}}},
    {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
    {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},
    {"name":"SA","valueFrom":{"fieldRef":{"fieldPath":"spec.serviceAccountName"}}},
    {"name":"HOST_IP","valueFrom":{"fieldRef":{"fieldPath":"status.hostIP"}}},
    {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
    {"name":"MISSING_LABEL","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['nope']"}}},
    {"name":"NOTE","valueFrom":{"fieldRef":{"fieldPath":"metadata.annotations['note']"}}},
    {"name":"URL","value":"http://$(IP):80/$(NAME)/$(LATER)/$(LANG)/$(DB_SERVICE_PORT)"},
    {"name":"LATER","value":"l"},
    {"name":"IMAGE_VAR","value":"$(HOME_FROM_IMAGE)"},
    {"name":"EMPTY"},
    {"name":"NAME","value":"override-$(NAME)"}
  ]})J");
  ImageConfig img = image({}, {"sh"});
  img.env.push_back("HOME_FROM_IMAGE=/root");
  auto r = processSpec(container, img, context());
  REQUIRE(r.ok());
  std::vector<std::string> want = {
      "PATH=/bin:/usr/bin",  // the image's PATH replaces the default in place
      "HOSTNAME=web",
      "LANG=en_US.UTF-8",
      "HOME_FROM_IMAGE=/root",
      "NAME=override-web",
      "NS=prod",
      "UID=1234-5678",
      "IP=10.244.0.7",
      "NODE=node-1",
      "SA=builder",
      "HOST_IP=192.168.1.10",
      "APP=web",
      "MISSING_LABEL=",
      "NOTE=hi",
      "URL=http://10.244.0.7:80/web/$(LATER)/en_US.UTF-8/5432",
      "LATER=l",
      "IMAGE_VAR=$(HOME_FROM_IMAGE)",
      "EMPTY=",
      "DB_SERVICE_HOST=10.96.0.20",
      "DB_SERVICE_PORT=5432",
  };
  CHECK(r->env == want);

  ImageConfig bare;
  bare.cmd = {"sh"};
  auto d = processSpec(Json::parse(R"J({"name":"c"})J"), bare, PodContext{});
  REQUIRE(d.ok());
  CHECK(d->env == std::vector<std::string>{kPath});
}

TEST_CASE("env: field paths, ConfigMap and Secret references", "[process_spec]") {
  PodContext ctx = context();
  ctx.configMapData =
      [](const std::string& name) -> skiff::Result<std::map<std::string, std::string>> {
    if (name == "cfg") return std::map<std::string, std::string>{{"mode", "fast"}, {"level", "3"}};
    return skiff::makeError(skiff::Code::kNotFound, "not found");
  };
  ctx.secretData =
      [](const std::string& name) -> skiff::Result<std::map<std::string, std::string>> {
    if (name == "creds") return std::map<std::string, std::string>{{"password", "s3cret"}};
    return skiff::makeError(skiff::Code::kNotFound, "not found");
  };
  struct Case {
    std::string env;       // one element of env
    std::string expected;  // "KEY=value" present in env, or "!error text"
  };
  std::vector<Case> cases = {
      {R"J({"name":"M","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"mode"}}})J", "M=fast"},
      {R"J({"name":"P","valueFrom":{"secretKeyRef":{"name":"creds","key":"password"}}})J",
       "P=s3cret"},
      {R"J({"name":"M","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"nope"}}})J",
       "!couldn't find key nope in ConfigMap prod/cfg"},
      {R"J({"name":"M","valueFrom":{"configMapKeyRef":{"name":"gone","key":"k"}}})J",
       "!configmap \"gone\" not found"},
      {R"J({"name":"P","valueFrom":{"secretKeyRef":{"name":"gone","key":"k"}}})J",
       "!secret \"gone\" not found"},
      {R"J({"name":"P","valueFrom":{"secretKeyRef":{"name":"creds","key":"k"}}})J",
       "!couldn't find key k in Secret prod/creds"},
      {R"J({"name":"F","valueFrom":{"fieldRef":{"fieldPath":"spec.bogus"}}})J",
       "!field label not supported: spec.bogus"},
      {R"J({"name":"IPS","valueFrom":{"fieldRef":{"fieldPath":"status.podIPs"}}})J",
       "IPS=10.244.0.7"},
      {R"J({"name":"L","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels"}}})J",
       "L=app=\"web\"\ntier=\"front\""},
  };
  for (const auto& c : cases) {
    INFO(c.env);
    Json container = {{"name", "c"}, {"env", Json::array({Json::parse(c.env)})}};
    auto r = processSpec(container, image({}, {"sh"}), ctx);
    if (c.expected[0] == '!') {
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().message == c.expected.substr(1));
    } else {
      REQUIRE(r.ok());
      CHECK(std::find(r->env.begin(), r->env.end(), c.expected) != r->env.end());
    }
  }
  // Optional references to missing objects or keys are skipped.
  Json optional = Json::parse(R"J({"name":"c","env":[
    {"name":"A","valueFrom":{"configMapKeyRef":{"name":"gone","key":"k","optional":true}}},
    {"name":"B","valueFrom":{"secretKeyRef":{"name":"creds","key":"k","optional":true}}}],
    "envFrom":[{"configMapRef":{"name":"cfg"},"prefix":"CFG_"},
               {"secretRef":{"name":"gone","optional":true}}]})J");
  auto r = processSpec(optional, image({}, {"sh"}), ctx);
  REQUIRE(r.ok());
  CHECK(r->env == std::vector<std::string>{"PATH=/bin:/usr/bin", "HOSTNAME=web", "LANG=C",
                                           "CFG_level=3", "CFG_mode=fast",
                                           "DB_SERVICE_HOST=10.96.0.20", "DB_SERVICE_PORT=5432"});
}

TEST_CASE("cwd and user", "[process_spec]") {
  struct Case {
    std::string what;
    std::string container;
    std::string podSecurityContext;
    std::string imageUser, imageWorkingDir;
    std::string cwd;
    uint32_t uid, gid;
    std::string error;
  };
  const std::string podRef = "(pod: \"web_prod(1234-5678)\", container: c)";
  std::vector<Case> cases = {
      {"defaults", R"J({"name":"c"})J", "{}", "", "", "/", 0, 0, ""},
      {"image working dir", R"J({"name":"c"})J", "{}", "", "/srv", "/srv", 0, 0, ""},
      {"workingDir wins", R"J({"name":"c","workingDir":"/app"})J", "{}", "", "/srv", "/app", 0, 0,
       ""},
      {"image uid", R"J({"name":"c"})J", "{}", "1000", "", "/", 1000, 0, ""},
      {"image uid:gid", R"J({"name":"c"})J", "{}", "1000:2000", "", "/", 1000, 2000, ""},
      {"runAsUser over image", R"J({"name":"c","securityContext":{"runAsUser":5}})J", "{}",
       "1000:2000", "", "/", 5, 2000, ""},
      {"runAsGroup over image", R"J({"name":"c","securityContext":{"runAsGroup":7}})J", "{}",
       "1000:2000", "", "/", 1000, 7, ""},
      {"pod securityContext", R"J({"name":"c"})J", R"J({"runAsUser":11,"runAsGroup":12})J", "", "",
       "/", 11, 12, ""},
      {"container over pod", R"J({"name":"c","securityContext":{"runAsUser":21}})J",
       R"J({"runAsUser":11,"runAsGroup":12})J", "", "", "/", 21, 12, ""},
      {"named image user with runAsUser", R"J({"name":"c","securityContext":{"runAsUser":3}})J",
       "{}", "nobody", "", "/", 3, 0, ""},
      {"named image user", R"J({"name":"c"})J", "{}", "nobody", "", "", 0, 0,
       "container has non-numeric user (nobody) in its image, which skiff cannot map to a uid; "
       "set securityContext.runAsUser " +
           podRef},
      {"named image group", R"J({"name":"c"})J", "{}", "1:staff", "", "", 0, 0,
       "container has non-numeric group (staff) in its image, which skiff cannot map to a gid; "
       "set securityContext.runAsGroup " +
           podRef},
      {"runAsNonRoot, image root", R"J({"name":"c","securityContext":{"runAsNonRoot":true}})J",
       "{}", "", "", "", 0, 0, "container has runAsNonRoot and image will run as root " + podRef},
      {"runAsNonRoot, image uid 0", R"J({"name":"c"})J", R"J({"runAsNonRoot":true})J", "0:0", "",
       "", 0, 0, "container has runAsNonRoot and image will run as root " + podRef},
      {"runAsNonRoot, named user", R"J({"name":"c"})J", R"J({"runAsNonRoot":true})J", "app", "", "",
       0, 0,
       "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is "
       "non-root " +
           podRef},
      {"runAsNonRoot, runAsUser 0",
       R"J({"name":"c","securityContext":{"runAsNonRoot":true,"runAsUser":0}})J", "{}", "1000", "",
       "", 0, 0, "container's runAsUser breaks non-root policy " + podRef},
      {"runAsNonRoot satisfied", R"J({"name":"c"})J", R"J({"runAsNonRoot":true})J", "1000", "", "/",
       1000, 0, ""},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    PodContext ctx = context();
    ctx.pod["spec"]["securityContext"] = Json::parse(c.podSecurityContext);
    ImageConfig img = image({}, {"sh"});
    img.user = c.imageUser;
    img.workingDir = c.imageWorkingDir;
    auto r = processSpec(Json::parse(c.container), img, ctx);
    if (!c.error.empty()) {
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().message == c.error);
      continue;
    }
    REQUIRE(r.ok());
    CHECK(r->cwd == c.cwd);
    CHECK(r->uid == c.uid);
    CHECK(r->gid == c.gid);
  }
  PodContext ctx = context();
  ctx.pod["spec"]["securityContext"] =
      Json::parse(R"J({"supplementalGroups":[5,3,5],"fsGroup":9})J");
  auto r = processSpec(Json::parse(R"J({"name":"c"})J"), image({}, {"sh"}), ctx);
  REQUIRE(r.ok());
  CHECK(r->additionalGids == std::vector<uint32_t>{3, 5, 9});
}

TEST_CASE("HOSTNAME comes from spec.hostname or the pod name, at most 63 characters",
          "[process_spec]") {
  ImageConfig img;
  img.cmd = {"sh"};
  auto hostnameOf = [&](const PodContext& ctx) {
    auto r = processSpec(Json::parse(R"J({"name":"c"})J"), img, ctx);
    REQUIRE(r.ok());
    for (const auto& e : r->env) {
      if (e.rfind("HOSTNAME=", 0) == 0) return e.substr(9);
    }
    return std::string("<unset>");
  };
  PodContext ctx = context();
  CHECK(hostnameOf(ctx) == "web");
  ctx.pod["spec"]["hostname"] = "db-0";
  CHECK(hostnameOf(ctx) == "db-0");
  ctx.pod["spec"].erase("hostname");
  ctx.pod["metadata"]["name"] = std::string(62, 'a') + "-b" + std::string(10, 'c');
  CHECK(hostnameOf(ctx) == std::string(62, 'a'));
  ctx.hostname = "given";
  CHECK(hostnameOf(ctx) == "given");
}
