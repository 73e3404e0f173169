"""Durable records in SQLite inside the data dir: hybrid jobs and quantum tasks.

``records`` is what both stores share (``RecordStore`` on the service's ``sqlite`` helpers,
conditional updates, client-token fingerprints); ``jobs`` and ``quantum_tasks`` hold one table
each; ``quantum_task_requests`` is the CreateQuantumTask request model a record keeps. Imports
only the shared base (config, exceptions, sqlite) and the shared job model.
"""
