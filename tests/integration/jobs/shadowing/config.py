ORIGIN = "user"
