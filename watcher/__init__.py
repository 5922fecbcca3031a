"""coldsign watcher: the online program that builds, ships, verifies and broadcasts."""
