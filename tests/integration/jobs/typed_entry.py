"""Entry point 'typed_entry:run' with hyperparameters bound by name and cast by annotation."""

import json
import os

from braket.jobs import save_job_result


def run(count: int, scale: float, verbose: bool, label="none"):
    data_dir = os.environ.get("AMZN_BRAKET_INPUT_DIR")
    channel_files = sorted(os.listdir(os.path.join(data_dir, "train"))) if data_dir else []
    checkpoint_dir = os.environ["AMZN_BRAKET_CHECKPOINT_DIR"]
    restored = sorted(os.listdir(checkpoint_dir))
    with open(os.path.join(checkpoint_dir, "progress.json"), "w") as handle:
        json.dump({"count": count}, handle)
    print(
        f"types {type(count).__name__} {type(scale).__name__} {type(verbose).__name__} {type(label).__name__}"
    )
    save_job_result(
        {
            "product": count * scale,
            "verbose": verbose,
            "label": label,
            "channel_files": channel_files,
            "restored": restored,
            "env": {
                k: v
                for k, v in os.environ.items()
                if k.startswith("AMZN_BRAKET_") and k != "AMZN_BRAKET_JOB_TOKEN"
            },
        }
    )
