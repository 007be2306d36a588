"""kill -9 of the apiserver while 16 clients create objects: after a restart,
every create that was acknowledged (201) is there, and SQLite's integrity check
passes."""
import http.client
import json
import os
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube_lib import Checks, apiserver  # noqa: E402

CLIENTS = 16


def creator(server, token, idx, acked, stop):
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.ssl_context(), timeout=5)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    n = 0
    while not stop.is_set():
        name = f"crash-{idx}-{n}"
        body = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
        try:
            conn.request("POST", "/api/v1/namespaces/default/pods", body, headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 201:
                acked.append(name)
        except Exception:
            return  # the server died under us: what was acknowledged is what counts
        n += 1


def main():
    t = Checks()
    with apiserver() as server:
        token = server.token()
        acked, stop = [], threading.Event()
        threads = [threading.Thread(target=creator, args=(server, token, i, acked, stop))
                   for i in range(CLIENTS)]
        for th in threads:
            th.start()
        time.sleep(1.5)
        server.kill(9)
        stop.set()
        for th in threads:
            th.join()
        t.check("clients got acknowledgements before the kill", len(acked) > 50, len(acked))

        db = sqlite3.connect(os.path.join(server.data_dir, "state.db"))
        (integrity,) = db.execute("PRAGMA integrity_check").fetchone()
        db.close()
        t.check("integrity_check is ok", integrity == "ok", integrity)

        server.start()
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.ssl_context())
        conn.request("GET", "/api/v1/namespaces/default/pods",
                     headers={"Authorization": f"Bearer {token}"})
        items = json.loads(conn.getresponse().read())["items"]
        present = {p["metadata"]["name"] for p in items}
        missing = [n for n in acked if n not in present]
        t.check(f"all {len(acked)} acknowledged creates survived", not missing, missing[:5])
    t.finish()


if __name__ == "__main__":
    main()
