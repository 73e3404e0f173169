"""Small job behaviours chosen by the 'mode' hyperparameter.

It reads the job contract's files directly instead of importing braket.jobs, which costs
seconds per job: these jobs are many and only test the lifecycle.
"""

import json
import os
import subprocess
import sys
import time

with open(os.environ["AMZN_BRAKET_HP_FILE"]) as handle:
    hyperparameters = json.load(handle)
mode = hyperparameters.get("mode", "ok")
print(f"mode={mode} pid={os.getpid()}", flush=True)
# save_job_result's file format, written by hand for the same reason as above.
with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as handle:
    header = {"name": "braket.jobs_data.persisted_job_data", "version": "1"}
    json.dump(
        {"braketSchemaHeader": header, "dataDictionary": {"mode": mode}, "dataFormat": "plaintext"}, handle
    )
if mode == "checkpoint":
    with open(os.path.join(os.environ["AMZN_BRAKET_CHECKPOINT_DIR"], "step.json"), "w") as handle:
        json.dump({"step": int(hyperparameters.get("step", 1))}, handle)
if mode == "resume":
    # What a job started with copy_checkpoints_from_job finds in its checkpoint folder.
    with open(os.path.join(os.environ["AMZN_BRAKET_CHECKPOINT_DIR"], "step.json")) as handle:
        step = json.load(handle)["step"]
    with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as handle:
        data = {"mode": mode, "resumed_step": step, "hyperparameters": hyperparameters}
        json.dump({"braketSchemaHeader": header, "dataDictionary": data, "dataFormat": "plaintext"}, handle)
if mode == "big-results":
    with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as handle:
        data = {"mode": mode, "samples": ["0" * 1000] * 2000}
        json.dump({"braketSchemaHeader": header, "dataDictionary": data, "dataFormat": "plaintext"}, handle)
if mode == "metrics":
    # log_metric's line format, for the readers that parse it back.
    for iteration in range(3):
        print(f"Metrics - timestamp={time.time()}; loss={1 / (iteration + 1)}; iteration_number={iteration};")
    for line in range(40):
        print(f"line {line}")
if mode == "answer":
    # A job that logs a metric along the way and saves its answer, as save_job_result does.
    along = float(hyperparameters["along_the_way"])
    print(f"Metrics - timestamp={time.time()}; z={along}; iteration_number=0;", flush=True)
    with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as handle:
        data = {"mode": mode, "z": float(hyperparameters["answer"]), "converged": True}
        json.dump({"braketSchemaHeader": header, "dataDictionary": data, "dataFormat": "plaintext"}, handle)
if mode == "objective":
    # A sweep's point: a score known from its hyperparameters (least at x=0.3, p=2), and a loss
    # metric that falls towards it step by step, as a variational algorithm's would.
    score = (float(hyperparameters.get("x", 0)) - 0.3) ** 2 + 0.1 * (
        int(hyperparameters.get("p", 1)) - 2
    ) ** 2
    for step in range(int(hyperparameters.get("steps", 3))):
        loss = score + 1.0 / (step + 1)
        print(f"Metrics - timestamp={time.time()}; loss={loss}; iteration_number={step};", flush=True)
        time.sleep(float(hyperparameters.get("tick_seconds", 0)))
    with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as handle:
        data = {"mode": mode, "score": score}
        json.dump({"braketSchemaHeader": header, "dataDictionary": data, "dataFormat": "plaintext"}, handle)
if mode == "count":
    # A job of known length whose every log line is unique: "count 0" ... "count <ticks-1>".
    for tick in range(int(hyperparameters.get("ticks", 10))):
        print(f"count {tick}", flush=True)
        time.sleep(float(hyperparameters.get("tick_seconds", 1)))
if mode == "environment":
    # The names of what the job inherited, for the test that no secret of the service is among them.
    with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as handle:
        data = {"mode": mode, "names": sorted(os.environ)}
        json.dump({"braketSchemaHeader": header, "dataDictionary": data, "dataFormat": "plaintext"}, handle)
if mode == "list-inputs":
    # Every file of every input channel, relative to the input folder.
    root = os.environ["AMZN_BRAKET_INPUT_DIR"]
    files = sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    )
    with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as handle:
        data = {"mode": mode, "files": files}
        json.dump({"braketSchemaHeader": header, "dataDictionary": data, "dataFormat": "plaintext"}, handle)
if mode == "print-hyperparameters":
    print(f"hyperparameters: {json.dumps(hyperparameters)}", flush=True)
if mode == "fail":
    raise ValueError("the algorithm diverged")
if mode == "exit3":
    sys.exit(3)
if mode == "checkpoint-then-sleep":
    with open(os.path.join(os.environ["AMZN_BRAKET_CHECKPOINT_DIR"], "step.json"), "w") as handle:
        json.dump({"step": 1}, handle)
    print("checkpoint written", flush=True)
if mode in ("escape", "escape-then-sleep"):
    # A grandchild that leaves everything a job's processes share: its own session (so not in
    # the job's process group), orphaned at once (so not in its tree), deaf to SIGTERM, and
    # holding the job's stdout open. The service must still stop it when the job ends.
    middle = os.fork()
    if middle == 0:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        import signal

        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print(f"escaped pid={os.getpid()}", flush=True)
        time.sleep(600)
        os._exit(0)
    os.waitpid(middle, 0)
    time.sleep(0.5)
    if mode == "escape":
        sys.exit(0)
    mode = "sleep"
if mode == "sleep-ignoring-sigterm":
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    mode = "sleep"
if mode in ("sleep", "spawn", "checkpoint-then-sleep"):
    if mode == "spawn":
        # A grandchild that ignores SIGTERM: cancel must still leave no process behind.
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)",
            ]
        )
        print(f"child pid={child.pid}", flush=True)
    for tick in range(600):
        print(f"tick {tick}", flush=True)
        time.sleep(1)
