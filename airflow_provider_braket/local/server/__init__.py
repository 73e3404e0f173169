"""The service's one endpoint: requests as bytes, before any Braket rule.

The ASGI app routes Braket calls to :mod:`~airflow_provider_braket.local.braket` and S3, CloudWatch
Logs, IAM, STS and ECR calls to moto (:mod:`~airflow_provider_braket.local.aws_state`); on the way
it checks SigV4 signatures, caps and spools request bodies, injects test faults and serves the
unsigned ``/_local/`` admin endpoints. It may import every layer below it.
"""
