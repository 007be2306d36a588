// Kubernetes defaulting, applied on create and update before validation:
// Service type ClusterIP, sessionAffinity None, clientIP timeout 10800 when
// ClientIP, port protocol TCP and targetPort = port; Pod restartPolicy Always,
// terminationGracePeriodSeconds 30, dnsPolicy ClusterFirst, schedulerName,
// container terminationMessagePath/Policy and imagePullPolicy, probe timings;
// and so on, as pkg/apis/core/v1/defaults.go does.
#pragma once

#include "api/json.h"
#include "api/schema.h"

namespace skiff::api {

// Fills defaults into `object` (already decoded) in place. Never fails: values
// that are present but wrong are left for validation to report.
void applyDefaults(Json& object, const GroupVersionKind& gvk);

}  // namespace skiff::api
