"""What runs inside a job process, as AWS's job container runs it.

These files are copied into each job's folder and run by the job's interpreter: they import
nothing of this package (a contract in pyproject.toml says so).
"""
