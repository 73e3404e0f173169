"""Small things every Airflow-side part uses: the ``[braket]`` settings, a job's identity tags,
secret masking, and shielding calls from a cancel. Imports only :mod:`airflow_provider_braket.jobs`.
"""
