"""The local Braket service: the Braket API, S3 and CloudWatch Logs on one endpoint, running real
hybrid jobs and quantum tasks on this machine.

Read it top down; each layer imports only those below it (pyproject.toml's ``[tool.importlinter]``
checks it, docs/architecture.md draws it):

- :mod:`.cli`, :mod:`.service_process`: start the service (``braket-local serve``), or start it as
  a child process and wait until it answers.
- :mod:`.server`: the one ASGI endpoint: bytes on the wire, signatures, body limits, the admin
  endpoints and fault injection. No Braket rules.
- :mod:`.braket`: the Braket operations: thin routes (``*responses``) over backends that decide.
- :mod:`.execution`: what runs jobs and quantum tasks: the job runner and its processes, the
  quantum task queue and its worker processes, simulation.
- :mod:`.devices`, :mod:`.storage`, :mod:`.aws_state`: what is known and kept: the device
  catalogues, the job and quantum task records, moto's S3/Logs/IAM/STS/ECR state on disk.
- :mod:`.config`, :mod:`.exceptions`, :mod:`.quantum_task_limits`, :mod:`.sqlite`: settings,
  Braket's error types, what one quantum task may take and how every store opens SQLite, used by
  every layer.

:mod:`.container` is apart: the files that run inside a job process. They import nothing of the
package, because they are copied into the job's folder.

The local service imports only the shared job model (:mod:`airflow_provider_braket.jobs`) and the
price list; the provider never imports it.
"""
