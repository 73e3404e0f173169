"""What runs: hybrid jobs in cgroups of their own, quantum tasks in warm worker processes.

Jobs: ``job_runner`` (slots, FIFO), ``job_execution`` (one running job, with the training
toolkit's part from ``training_toolkit``), ``containment`` (the job's cgroup and user),
``job_processes`` (finding and stopping every process of a job without cgroups), ``workspace``
(the job's folder as AWS's container fills it), ``job_files`` (reading what a job wrote without
following its links), ``checkpoints``, ``log_shipping``, ``retention``. Quantum tasks:
``quantum_task_runner`` (the queue), its ``quantum_task_processes`` (parent side) and
``quantum_task_worker`` (child side), which runs ``simulation`` and writes
``quantum_task_results``. Imports devices, storage and aws_state.
"""
