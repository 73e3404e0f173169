ORIGIN = "user"  # an installed psutil exists: on AWS, as here, the installed one wins
