// apps/v1 Deployment and ReplicaSet, and autoscaling/v1 Scale (their /scale
// subresource), as k8s.io/api/apps/v1/types.go.
#include "api/types_internal.h"

namespace skiff::api::model {

void defineApps(Model& m) {
  auto a = [&](const char* n) { return m.ref(kApps + n); };
  const TypeDef* selector = m.ref(kMeta + "LabelSelector");
  const TypeDef* podTemplate = m.ref(kCore + "PodTemplateSpec");

  TypeDef* dep = m.kind(kApps + "Deployment", {"apps", "v1", "Deployment"},
                        "Deployment enables declarative updates for Pods and ReplicaSets.",
                        {obj("spec", a("DeploymentSpec")), obj("status", a("DeploymentStatus"))});
  m.list(kApps + "DeploymentList", {"apps", "v1", "DeploymentList"}, dep);
  m.def(kApps + "DeploymentSpec",
        "DeploymentSpec is the specification of the desired behavior of "
        "the Deployment.",
        {i32("replicas"), obj("selector", selector).req(), obj("template", podTemplate).req(),
         obj("strategy", a("DeploymentStrategy")).strategy("retainKeys"), i32("minReadySeconds"),
         i32("revisionHistoryLimit"), boolean("paused"), i32("progressDeadlineSeconds")});
  m.def(kApps + "DeploymentStrategy",
        "DeploymentStrategy describes how to replace existing pods "
        "with new ones.",
        {str("type").enums({"Recreate", "RollingUpdate"}),
         obj("rollingUpdate", a("RollingUpdateDeployment"))});
  m.def(kApps + "RollingUpdateDeployment",
        "Spec to control the desired behavior of rolling update.",
        {ios("maxUnavailable"), ios("maxSurge")});
  m.def(kApps + "DeploymentStatus",
        "DeploymentStatus is the most recently observed status of the "
        "Deployment.",
        {i64("observedGeneration"), i32("replicas"), i32("updatedReplicas"), i32("readyReplicas"),
         i32("availableReplicas"), i32("unavailableReplicas"), i32("terminatingReplicas"),
         arr("conditions", a("DeploymentCondition")).merge("type"), i32("collisionCount")});
  m.def(kApps + "DeploymentCondition",
        "DeploymentCondition describes the state of a deployment at "
        "a certain point.",
        {str("type").req(), str("status").req(), time("lastUpdateTime"), time("lastTransitionTime"),
         str("reason"), str("message")});

  TypeDef* rs = m.kind(kApps + "ReplicaSet", {"apps", "v1", "ReplicaSet"},
                       "ReplicaSet ensures that a specified number of pod replicas are running at "
                       "any given time.",
                       {obj("spec", a("ReplicaSetSpec")), obj("status", a("ReplicaSetStatus"))});
  m.list(kApps + "ReplicaSetList", {"apps", "v1", "ReplicaSetList"}, rs);
  m.def(kApps + "ReplicaSetSpec", "ReplicaSetSpec is the specification of a ReplicaSet.",
        {i32("replicas"), i32("minReadySeconds"), obj("selector", selector).req(),
         obj("template", podTemplate)});
  m.def(kApps + "ReplicaSetStatus",
        "ReplicaSetStatus represents the current status of a "
        "ReplicaSet.",
        {i32("replicas").req(), i32("fullyLabeledReplicas"), i32("readyReplicas"),
         i32("availableReplicas"), i32("terminatingReplicas"), i64("observedGeneration"),
         arr("conditions", a("ReplicaSetCondition")).merge("type")});
  m.def(kApps + "ReplicaSetCondition",
        "ReplicaSetCondition describes the state of a replica set "
        "at a certain point.",
        {str("type").req(), str("status").req(), time("lastTransitionTime"), str("reason"),
         str("message")});

  m.kind(kAutoscaling + "Scale", {"autoscaling", "v1", "Scale"},
         "Scale represents a scaling request for a resource.",
         {obj("spec", m.ref(kAutoscaling + "ScaleSpec")),
          obj("status", m.ref(kAutoscaling + "ScaleStatus"))});
  m.def(kAutoscaling + "ScaleSpec", "ScaleSpec describes the attributes of a scale subresource.",
        {i32("replicas")});
  m.def(kAutoscaling + "ScaleStatus",
        "ScaleStatus represents the current status of a scale "
        "subresource.",
        {i32("replicas").req(), str("selector")});
}

}  // namespace skiff::api::model
