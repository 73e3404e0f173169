"""A package entry point ``algo_pkg.run:main`` that reads an input channel and takes a hyperparameter."""

import json
import os


def main(mode: str = "x") -> None:
    with open(os.path.join(os.environ["AMZN_BRAKET_INPUT_DIR"], "points", "points.txt")) as handle:
        data = handle.read()
    with open(os.path.join(os.environ["AMZN_BRAKET_JOB_RESULTS_DIR"], "results.json"), "w") as handle:
        json.dump({"dataDictionary": {"data": data, "mode": mode}, "dataFormat": "plaintext"}, handle)
