"""The memory of the ml.* instance types a hybrid job runs on, for the local service's job limit.

An ``ml.<type>`` instance is the EC2 instance ``<type>``. Figures in GiB, as AWS publishes them,
read 2026-12-05:

- m4, m5: Amazon EC2 User Guide, "General purpose instances", Hardware specifications
  (docs.aws.amazon.com/AWSEC2/latest/WindowsGuide/general-purpose-instances.html);
- c4, c5, c5n: Amazon EC2 User Guide, "Compute optimized instances", Hardware specifications
  (docs.aws.amazon.com/AWSEC2/latest/WindowsGuide/compute-optimized-instances.html);
- g4dn: AWS Batch User Guide, "Run GPU jobs", its table of GPU instance types (read in AWS's
  Portuguese edition, docs.aws.amazon.com/pt_br/batch/latest/userguide/gpu-jobs.html);
- p3: the AWS News Blog's P3 launch post ("up to 8 NVIDIA Tesla V100 GPUs"), its table of the
  three sizes (read in InfoQ's Chinese translation, infoq.cn/article/j629I8X512fg8tuKd6ke).

The other types of the Braket API (t3, p2, p3dn, p4d, g6, g6e) have no figure here yet: a job on
one of them gets no memory limit from its type.
"""

from __future__ import annotations

INSTANCE_MEMORY_GIB: dict[str, float] = {
    "ml.m4.xlarge": 16, "ml.m4.2xlarge": 32, "ml.m4.4xlarge": 64, "ml.m4.10xlarge": 160,
    "ml.m4.16xlarge": 256,
    "ml.m5.large": 8, "ml.m5.xlarge": 16, "ml.m5.2xlarge": 32, "ml.m5.4xlarge": 64,
    "ml.m5.12xlarge": 192, "ml.m5.24xlarge": 384,
    "ml.c4.xlarge": 7.5, "ml.c4.2xlarge": 15, "ml.c4.4xlarge": 30, "ml.c4.8xlarge": 60,
    "ml.c5.xlarge": 8, "ml.c5.2xlarge": 16, "ml.c5.4xlarge": 32, "ml.c5.9xlarge": 72,
    "ml.c5.18xlarge": 144,
    "ml.c5n.xlarge": 10.5, "ml.c5n.2xlarge": 21, "ml.c5n.4xlarge": 42, "ml.c5n.9xlarge": 96,
    "ml.c5n.18xlarge": 192,
    "ml.g4dn.xlarge": 16, "ml.g4dn.2xlarge": 32, "ml.g4dn.4xlarge": 64, "ml.g4dn.8xlarge": 128,
    "ml.g4dn.12xlarge": 192, "ml.g4dn.16xlarge": 256,
    "ml.p3.2xlarge": 61, "ml.p3.8xlarge": 244, "ml.p3.16xlarge": 488,
}  # fmt: skip


def instance_memory_bytes(instance_type: str) -> int | None:
    """The instance type's memory in bytes, or None where the table has no figure for it."""
    gib = INSTANCE_MEMORY_GIB.get(instance_type)
    return int(gib * (1 << 30)) if gib is not None else None
