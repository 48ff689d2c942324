"""What the records say, for people to read: the status matrix and the weekly digest."""
