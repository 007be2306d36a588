// Label and field selectors, as `-l app=web,tier!=db` and
// `--field-selector spec.nodeName=node1` send them.
//
// Label grammar (k8s.io/apimachinery/pkg/labels): comma-separated requirements
// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
// Field grammar: `f=v`, `f==v`, `f!=v`, comma-separated, over the fields a kind
// supports (metadata.name and metadata.namespace for all; spec.nodeName,
// status.phase, ... per kind, as Kubernetes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/json.h"
#include "base/result.h"

namespace skiff::api {

class LabelSelector {
 public:
  struct Requirement {
    // kGreaterThan/kLessThan are the `k>3`, `k<3` forms (integer comparison).
    enum class Op {
      kEquals,
      kNotEquals,
      kIn,
      kNotIn,
      kExists,
      kDoesNotExist,
      kGreaterThan,
      kLessThan
    };
    std::string key;
    Op op = Op::kEquals;
    std::vector<std::string> values;
  };

  // kBadRequest naming the problem, e.g. `unable to parse requirement: ...`.
  static Result<LabelSelector> parse(std::string_view text);
  // From a metav1.LabelSelector ({matchLabels, matchExpressions}). A null
  // selector matches nothing (as LabelSelectorAsSelector); {} matches everything.
  static Result<LabelSelector> fromJson(const Json& selector);
  // From a plain map selector (Service.spec.selector): every pair must match.
  static LabelSelector fromMap(const Json& labels);

  // `labels` is an object's metadata.labels (null or an object).
  bool matches(const Json& labels) const;
  // True for the selector that matches everything.
  bool empty() const { return requirements_.empty() && !nothing_; }
  // As labels.Selector.String(): requirements sorted by key, `a=b,c in (d,e),!f`.
  std::string toString() const;
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
  bool nothing_ = false;  // matches no object (a null metav1.LabelSelector)
};

class FieldSelector {
 public:
  // `resource` is the plural ("pods"); kBadRequest for a field that resource
  // does not support, with Kubernetes' text: `field label not supported: foo`
  // for kinds with their own field set (pods, nodes, namespaces, events,
  // services, replicasets, secrets, replicationcontrollers), else
  // `"foo" is not a known field selector: only "metadata.name", "metadata.namespace"`.
  static Result<FieldSelector> parse(std::string_view text, const std::string& resource);
  bool matches(const Json& object) const;
  bool empty() const { return terms_.empty(); }
  // "spec.nodeName=node1,status.phase!=Running" (terms sorted, as parsed).
  std::string toString() const;

 private:
  std::string resource_;
  struct Term {
    std::string field;
    bool equals = true;
    std::string value;
  };
  std::vector<Term> terms_;
};

// Whether `object` is selected: its metadata.labels match `labels` and it
// matches `fields`, each when given (list, watch and deletecollection).
bool selects(const std::optional<LabelSelector>& labels, const std::optional<FieldSelector>& fields,
             const Json& object);

}  // namespace skiff::api
