"""What runs: hybrid jobs in process groups, quantum tasks in warm worker processes.

Jobs: ``job_runner`` (slots, FIFO), ``job_processes`` (finding and stopping every process of a
job), ``workspace`` (the job's folder as AWS's container fills it), ``checkpoints``,
``log_shipping``, ``retention``. Quantum tasks: ``quantum_task_runner`` (the queue), its
``quantum_task_processes`` (parent side) and ``quantum_task_worker`` (child side), which runs
``simulation`` and writes ``quantum_task_results``. Imports devices, storage and aws_state.
"""
