"""gRPC dynamic-provider fixtures (owned by the activation work)."""
