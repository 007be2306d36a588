"""Debian's python3-kubernetes (the official client) lists and watches pods on a
real skiff apiserver, with nothing but the kubeconfig skiff wrote."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube_lib import Checks, apiserver  # noqa: E402

from kubernetes import client, config, watch  # noqa: E402


def pod(name, labels=None):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="busybox:latest")]))


def main():
    t = Checks()
    with apiserver() as server:
        api_client = config.new_client_from_config(config_file=server.kubeconfig)
        v1 = client.CoreV1Api(api_client)

        names = [ns.metadata.name for ns in v1.list_namespace().items]
        t.check("namespaces listed", "default" in names and "kube-system" in names, names)

        created = v1.create_namespaced_pod("default", pod("py-a", {"app": "py"}))
        t.check("create returns the stored pod", created.metadata.uid and created.metadata.resource_version)
        t.check("defaults applied", created.spec.restart_policy == "Always"
                and created.spec.termination_grace_period_seconds == 30, created.spec)
        v1.create_namespaced_pod("default", pod("py-b"))

        pods = v1.list_namespaced_pod("default")
        t.check("list sees both pods", sorted(p.metadata.name for p in pods.items) == ["py-a", "py-b"])
        sel = v1.list_namespaced_pod("default", label_selector="app=py")
        t.check("label selector filters", [p.metadata.name for p in sel.items] == ["py-a"])

        # Watch from the list's resourceVersion; a writer thread makes changes.
        rv = pods.metadata.resource_version
        seen = []

        def writer():
            time.sleep(0.5)
            v1.create_namespaced_pod("default", pod("py-c"))
            v1.patch_namespaced_pod("py-c", "default", {"metadata": {"labels": {"x": "y"}}})
            v1.delete_namespaced_pod("py-c", "default")

        th = threading.Thread(target=writer)
        th.start()
        w = watch.Watch()
        for ev in w.stream(v1.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=10):
            if ev["object"].metadata.name == "py-c":
                seen.append(ev["type"])
            if "DELETED" in seen:
                w.stop()
        th.join()
        t.check("watch sees ADDED, MODIFIED, DELETED in order",
                seen == ["ADDED", "MODIFIED", "DELETED"], seen)

        try:
            v1.read_namespaced_pod("nope", "default")
            t.check("missing pod is 404", False)
        except client.exceptions.ApiException as e:
            t.check("missing pod is 404", e.status == 404, e.status)
    t.finish()


if __name__ == "__main__":
    main()
