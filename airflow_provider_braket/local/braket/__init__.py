"""The Braket API: hybrid jobs, quantum tasks, devices and tags, as boto3 speaks them.

As in moto: ``responses`` and ``quantum_task_responses`` only parse a request, ask the backend and
serialise its answer; ``jobs`` (:class:`BraketBackend`) and ``quantum_tasks`` (:class:`QuantumTasks`)
decide: validation, conditional writes, queueing. Imports execution, devices, storage, aws_state.
"""
