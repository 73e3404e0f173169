"""What Amazon Braket charges: a price list in AWS's offer-file format, and job costs from it."""
