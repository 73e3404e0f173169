"""A job that tries to outlive itself and to read what is not its own (test_job_containment.py).

Modes (hyperparameter ``mode``), each tagged with ``tag`` so the test can find its processes:
- ``detach``: ``env -i setsid -f sleep <tag>``: no inherited marker, own session, orphaned;
- ``double-fork``: fork, setsid, fork, exec ``sleep <tag>`` with an empty environment;
- ``allocate``: hold ``mib`` MiB;
- ``pry``: try to read the service's environment, the admin token, the state database and
  another job's folder, and to change the service's limits; leave links to secrets in the
  results, checkpoints and failure file; write what each attempt got into results.json.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

with open(os.environ["AMZN_BRAKET_HP_FILE"]) as handle:
    hyperparameters = json.load(handle)
mode, tag = hyperparameters["mode"], hyperparameters.get("tag", "0")
results_dir = os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"]
header = {"name": "braket.jobs_data.persisted_job_data", "version": "1"}


def save(data):
    with open(os.path.join(results_dir, "results.json"), "w") as handle:
        json.dump({"braketSchemaHeader": header, "dataDictionary": data, "dataFormat": "plaintext"}, handle)


def read(path, size=-1):
    with open(path, "rb") as handle:
        return handle.read(size)


def attempt(action):
    try:
        value = action()
        return "read" if value is not None else "done"
    except (OSError, urllib.error.HTTPError) as error:
        return f"refused: {type(error).__name__}"


if mode == "allocate":
    held = bytearray(int(hyperparameters["mib"]) << 20)  # zero-filled: every page is touched
    save({"mode": mode, "held": len(held)})
elif mode == "detach":
    subprocess.run(["env", "-i", "setsid", "-f", "sleep", tag], check=True)
    time.sleep(0.5)
    save({"mode": mode})
elif mode == "double-fork":
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execve("/bin/sleep", ["sleep", tag], {})
        os._exit(0)
    os.wait()
    time.sleep(0.5)
    save({"mode": mode})
elif mode == "pry":
    job_folder = os.path.dirname(results_dir)
    data_dir = os.path.dirname(os.path.dirname(job_folder))
    launcher_pid = os.getppid()
    with open(f"/proc/{launcher_pid}/stat") as stat:
        service_pid = int(stat.read().split(") ")[1].split()[1])
    other_job = hyperparameters.get("other_job", "")
    endpoint = os.environ["AWS_ENDPOINT_URL"]

    def change_limits():
        request = urllib.request.Request(
            f"{endpoint}/_local/limits",
            data=b'{"quantumTaskWorkers": 0}',
            method="PUT",
            headers={"content-type": "application/json"},
        )
        return urllib.request.urlopen(request, timeout=10).read()

    secret = os.path.join(data_dir, "admin-token")
    for link, target in (("model/leak", secret), ("checkpoints/leak", secret), ("output/failure", secret)):
        path = os.path.join(job_folder, link)
        if os.path.exists(path) or os.path.islink(path):
            os.remove(path)
        os.symlink(target, path)
    save(
        {
            "mode": mode,
            "uid": os.getuid(),
            "service_environment": attempt(lambda: read(f"/proc/{service_pid}/environ")),
            "admin_token": attempt(lambda: read(secret)),
            "state": attempt(lambda: read(os.path.join(data_dir, "state.sqlite3"), 16)),
            "jobs_listing": attempt(lambda: os.listdir(os.path.join(data_dir, "jobs"))),
            "other_job": attempt(lambda: os.listdir(os.path.join(data_dir, "jobs", other_job, "model"))),
            "limits": attempt(change_limits),
        }
    )
    sys.exit(int(hyperparameters.get("exit", "0")))
