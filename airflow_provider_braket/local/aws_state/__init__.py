"""S3, CloudWatch Logs, IAM, STS and ECR: moto behind the endpoint, its state kept on disk.

``moto_backend`` dispatches to moto and persists each write through ``store``; ``clients`` are
boto3 clients to this very endpoint for the job runner; ``images`` publishes the job images the
SDK looks up in ECR; ``offer_file`` is the price list served to the SDK's ``Tracker``. Imports only
the shared base (config, exceptions, sqlite), the shared job model and the price list.
"""
