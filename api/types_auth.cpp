// authentication.k8s.io/v1 SelfSubjectReview and authorization.k8s.io/v1
// SelfSubjectAccessReview and SelfSubjectRulesReview: the questions `kubectl
// auth whoami` and `kubectl auth can-i` ask about the caller, and
// authentication.k8s.io/v1 TokenRequest, the body of a ServiceAccount's token
// subresource; as k8s.io/api/authentication/v1 and authorization/v1 types.go.
// Never stored.
#include "api/types_internal.h"

namespace skiff::api::model {

void defineAuth(Model& m) {
  auto n = [&](const char* name) { return m.ref(kAuthentication + name); };
  auto z = [&](const char* name) { return m.ref(kAuthorization + name); };

  m.kind(kAuthentication + "SelfSubjectReview",
         {"authentication.k8s.io", "v1", "SelfSubjectReview"},
         "SelfSubjectReview contains the user information that the kube-apiserver has about the "
         "user making this request.",
         {obj("status", n("SelfSubjectReviewStatus"))});
  m.def(kAuthentication + "SelfSubjectReviewStatus",
        "SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.",
        {obj("userInfo", n("UserInfo"))});
  m.def(kAuthentication + "UserInfo",
        "UserInfo holds the information about the user needed to implement the user.Info "
        "interface.",
        {str("username"), str("uid"), strs("groups").atomic()});

  m.kind(kAuthentication + "TokenRequest", {"authentication.k8s.io", "v1", "TokenRequest"},
         "TokenRequest requests a token for a given service account.",
         {obj("spec", n("TokenRequestSpec")).req(), obj("status", n("TokenRequestStatus"))});
  m.def(kAuthentication + "TokenRequestSpec",
        "TokenRequestSpec contains client provided parameters of a token request.",
        {strs("audiences").atomic().req(), i64("expirationSeconds"),
         obj("boundObjectRef", n("BoundObjectReference"))});
  m.def(kAuthentication + "BoundObjectReference",
        "BoundObjectReference is a reference to an object that a token is bound to.",
        {str("kind"), str("apiVersion"), str("name"), str("uid")});
  m.def(kAuthentication + "TokenRequestStatus",
        "TokenRequestStatus is the result of a token request.",
        {str("token").req(), time("expirationTimestamp").req()});

  m.kind(kAuthorization + "SelfSubjectAccessReview",
         {"authorization.k8s.io", "v1", "SelfSubjectAccessReview"},
         "SelfSubjectAccessReview checks whether or the current user can perform an action.",
         {obj("spec", z("SelfSubjectAccessReviewSpec")).req(),
          obj("status", z("SubjectAccessReviewStatus"))});
  m.def(kAuthorization + "SelfSubjectAccessReviewSpec",
        "SelfSubjectAccessReviewSpec is a description of the access request. Exactly one of "
        "ResourceAttributes and NonResourceAttributes must be set.",
        {obj("resourceAttributes", z("ResourceAttributes")),
         obj("nonResourceAttributes", z("NonResourceAttributes"))});
  m.def(kAuthorization + "ResourceAttributes",
        "ResourceAttributes includes the authorization attributes available for resource "
        "requests to the Authorizer interface.",
        {str("namespace"), str("verb"), str("group"), str("version"), str("resource"),
         str("subresource"), str("name")});
  m.def(kAuthorization + "NonResourceAttributes",
        "NonResourceAttributes includes the authorization attributes available for "
        "non-resource requests to the Authorizer interface.",
        {str("path"), str("verb")});
  m.def(kAuthorization + "SubjectAccessReviewStatus",
        "SubjectAccessReviewStatus holds the result of the access check.",
        {boolean("allowed").req(), boolean("denied"), str("reason"), str("evaluationError")});

  m.kind(kAuthorization + "SelfSubjectRulesReview",
         {"authorization.k8s.io", "v1", "SelfSubjectRulesReview"},
         "SelfSubjectRulesReview enumerates the set of actions the current user can perform "
         "within a namespace.",
         {obj("spec", z("SelfSubjectRulesReviewSpec")).req(),
          obj("status", z("SubjectRulesReviewStatus"))});
  m.def(kAuthorization + "SelfSubjectRulesReviewSpec",
        "SelfSubjectRulesReviewSpec defines the specification for SelfSubjectRulesReview.",
        {str("namespace")});
  m.def(kAuthorization + "SubjectRulesReviewStatus",
        "SubjectRulesReviewStatus contains the result of a rules check.",
        {arr("resourceRules", z("ResourceRule")).atomic(),
         arr("nonResourceRules", z("NonResourceRule")).atomic(), boolean("incomplete").req(),
         str("evaluationError")});
  m.def(kAuthorization + "ResourceRule",
        "ResourceRule is the list of actions the subject is allowed to perform on resources.",
        {strs("verbs").atomic().req(), strs("apiGroups").atomic(), strs("resources").atomic(),
         strs("resourceNames").atomic()});
  m.def(kAuthorization + "NonResourceRule",
        "NonResourceRule holds information that describes a rule for the non-resource",
        {strs("verbs").atomic().req(), strs("nonResourceURLs").atomic()});
}

}  // namespace skiff::api::model
