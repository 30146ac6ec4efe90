"""The hand-written asynchronous I/O layer: transport, client and resources."""
